module github.com/tern-agent/tern/bench

go 1.26.8

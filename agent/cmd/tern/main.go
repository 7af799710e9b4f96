// Command tern is the coding agent. Every install path (archive, npm,
// installer, container image) runs this binary; it alone decides behaviour.
package main

import (
	"os"

	"github.com/tern-agent/tern/agent/internal/cli"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

func main() {
	// A copy of tern started to apply Landlock rules does so and becomes the
	// sandboxed command; it never reaches the CLI.
	sandbox.RunIfLandlockChild()
	// Nothing tern inherited beyond stdio may reach a sandboxed command.
	sandbox.SealInheritedFDs()
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}

package initcmd

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tern-agent/tern/packager/internal/build"
	"github.com/tern-agent/tern/packager/internal/stamp"
)

// Adapt wires an existing .goreleaser.yaml for the packager, when that is
// safe: it has exactly one build, and that build compiles f.Main. Then it
// sets dist to dist/build, adds the stamp -X flag when no ldflag sets a
// stamp (or, for a project with a version variable, its -X flag, and makes
// a snapshot's {{ .Version }} the packager's), and sets the build's targets
// to release.yaml's. It returns the
// new bytes and the keys it changed (none: the file is already wired).
// Otherwise it refuses, naming every key to change, and changes nothing.
func Adapt(file string, raw []byte, f *Facts) ([]byte, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w: fix it, or move it away and run packager init again to write a new one", file, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s is not a YAML mapping: move it away and run packager init again to write a new one", file)
	}
	top := doc.Content[0]
	refuse := func(problems ...string) error {
		return fmt.Errorf("%s cannot be adapted safely for the packager, so it is left as it is; change these keys, or move it away and run packager init again to write a new one:\n  - %s",
			file, strings.Join(problems, "\n  - "))
	}

	builds := value(top, "builds")
	if builds == nil || builds.Kind != yaml.SequenceNode || len(builds.Content) == 0 {
		return nil, nil, refuse(fmt.Sprintf("builds: add one build with main: %s (GoReleaser's default build is not something the packager can check)", f.Main))
	}
	if len(builds.Content) != 1 {
		return nil, nil, refuse(fmt.Sprintf("builds: has %d builds, and the packager releases one binary: keep only the build of %s, with dist: dist/build and the ldflags stamp %s", len(builds.Content), f.Main, stampLDFlag(f)))
	}
	b := builds.Content[0]
	if b.Kind != yaml.MappingNode {
		return nil, nil, refuse("builds[0]: is not a mapping")
	}
	if builder := scalar(b, "builder"); builder != "" && builder != "go" {
		return nil, nil, refuse(fmt.Sprintf("builds[0].builder: is %s; the packager releases Go builds", builder))
	}
	dir, main := scalar(b, "dir"), scalar(b, "main")
	if dir == "" {
		dir = "."
	}
	if main == "" {
		main = "."
	}
	built := path.Clean(path.Join(dir, main))
	if built != path.Clean(f.Main) {
		return nil, nil, refuse(fmt.Sprintf("builds[0].main: builds %s, not %s: set main: %s (or pass --main ./%s to init)", built, f.Main, f.Main, built))
	}

	var changed []string
	if d := value(top, "dist"); d == nil || d.Value != "dist/build" {
		set(top, "dist", &yaml.Node{Kind: yaml.ScalarNode, Value: "dist/build"})
		changed = append(changed, "dist")
	}

	// The ldflag that tells the binary its version: the build stamp, or
	// the version variable's -X, whichever the project uses.
	has := func(v string) bool { return strings.Contains(v, stamp.Marker) }
	flag := stampLDFlag(f)
	if f.VersionVar != "" {
		re := regexp.MustCompile(`-X[ =]['"]?` + regexp.QuoteMeta(f.VersionVar) + `=`)
		has, flag = re.MatchString, versionLDFlag(f)
	}
	ld := value(b, "ldflags")
	switch {
	case ld == nil:
		set(b, "ldflags", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: flag}}})
		changed = append(changed, "builds[0].ldflags")
	case ld.Kind == yaml.ScalarNode:
		if !has(ld.Value) {
			*ld = yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: ld.Value}, {Kind: yaml.ScalarNode, Value: flag}}}
			changed = append(changed, "builds[0].ldflags")
		}
	case ld.Kind == yaml.SequenceNode:
		if !slices.ContainsFunc(ld.Content, func(n *yaml.Node) bool { return has(n.Value) }) {
			ld.Content = append(ld.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: flag})
			changed = append(changed, "builds[0].ldflags")
		}
	default:
		return nil, nil, refuse("builds[0].ldflags: is neither a string nor a list; add " + flag)
	}
	if f.VersionVar != "" {
		// An existing -X may set the variable to GoReleaser's {{ .Version }},
		// which in a snapshot is GoReleaser's own invention; make it the
		// packager's, as a tagged release's already is.
		snap := value(top, "snapshot")
		if snap == nil || snap.Kind != yaml.MappingNode {
			snap = &yaml.Node{Kind: yaml.MappingNode}
			set(top, "snapshot", snap)
		}
		if scalar(snap, "version_template") != snapshotVersion {
			del(snap, "name_template") // GoReleaser v1's name for it
			set(snap, "version_template", &yaml.Node{Kind: yaml.ScalarNode, Value: snapshotVersion, Style: yaml.DoubleQuotedStyle})
			changed = append(changed, "snapshot.version_template")
		}
	}

	// The packager registers one binary per release.yaml target and refuses
	// any other, so the build's matrix must be exactly those targets.
	want := goreleaserTargets(f)
	if t := value(b, "targets"); t == nil || !sameScalars(t, want) || hasAny(b, "goos", "goarch", "goarm", "goamd64", "ignore") {
		for _, k := range []string{"goos", "goarch", "goarm", "goamd64", "ignore"} {
			del(b, k)
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, w := range want {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: w})
		}
		set(b, "targets", seq) // in place, keeping the key's comment
		changed = append(changed, "builds[0].targets")
	}
	if len(changed) == 0 {
		return raw, nil, nil
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("re-writing %s", file), err)
	}
	return out.Bytes(), changed, nil
}

// snapshotVersion makes GoReleaser's {{ .Version }} of a snapshot the
// version the packager decided.
const snapshotVersion = "{{ .Env." + build.EnvVersion + " }}"

// value is the value node of key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if v := value(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func hasAny(m *yaml.Node, keys ...string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return value(m, k) != nil })
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func sameScalars(seq *yaml.Node, want []string) bool {
	if seq.Kind != yaml.SequenceNode || len(seq.Content) != len(want) {
		return false
	}
	for i, n := range seq.Content {
		if n.Value != want[i] {
			return false
		}
	}
	return true
}

// Advise names the keys of an existing .goreleaser.yaml's build that init
// leaves alone but a reproducible, static release wants.
func Advise(raw []byte) []string {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) != 1 {
		return nil
	}
	builds := value(doc.Content[0], "builds")
	if builds == nil || builds.Kind != yaml.SequenceNode || len(builds.Content) != 1 {
		return nil
	}
	b := builds.Content[0]
	has := func(key, want string) bool {
		v := value(b, key)
		if v == nil {
			return false
		}
		if v.Kind == yaml.ScalarNode {
			return strings.Contains(v.Value, want)
		}
		return slices.ContainsFunc(v.Content, func(n *yaml.Node) bool { return strings.Contains(n.Value, want) })
	}
	var advice []string
	if !has("env", "CGO_ENABLED=0") {
		advice = append(advice, "builds[0].env: add CGO_ENABLED=0, for static binaries that cross-compile")
	}
	if !has("flags", "-trimpath") {
		advice = append(advice, "builds[0].flags: add -trimpath, so binaries carry no local paths")
	}
	if !has("mod_timestamp", "RELEASE_EPOCH") {
		advice = append(advice, `builds[0].mod_timestamp: set "{{ .Env.RELEASE_EPOCH }}", the commit time the packager passes, so the same commit gives the same bytes`)
	}
	return advice
}

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewPolicyResolvesPaths(t *testing.T) {
	ws := t.TempDir()
	if err := os.Mkdir(filepath.Join(ws, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(ws, link); err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(WorkspaceWrite, link, []string{"out"}, false)
	if err != nil {
		t.Fatal(err)
	}
	realWS, _ := filepath.EvalSymlinks(ws)
	if p.Workspace != realWS {
		t.Errorf("workspace = %s, want the resolved %s", p.Workspace, realWS)
	}
	if want := []string{realWS, filepath.Join(realWS, "out")}; strings.Join(p.WritableRoots(), ",") != strings.Join(want, ",") {
		t.Errorf("writable roots = %v, want %v", p.WritableRoots(), want)
	}
}

func TestNewPolicyErrors(t *testing.T) {
	ws := t.TempDir()
	file := filepath.Join(ws, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		mode     Mode
		cwd      string
		writable []string
		want     string
	}{
		{"missing workspace", WorkspaceWrite, filepath.Join(ws, "nope"), nil, "--cwd " + filepath.Join(ws, "nope") + ": no such directory; create it first"},
		{"workspace is a file", ReadOnly, file, nil, "not a directory"},
		{"missing writable dir", WorkspaceWrite, ws, []string{"/nonexistent/dir"}, "--writable /nonexistent/dir: no such directory"},
		{"writable outside workspace-write", ReadOnly, ws, []string{ws}, "--writable applies only to --mode workspace-write"},
		{"root writable", WorkspaceWrite, ws, []string{"/"}, "refusing to make / writable"},
		{"root workspace", WorkspaceWrite, "/", nil, "refusing to make / writable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPolicy(tc.mode, tc.cwd, tc.writable, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBwrapArgs(t *testing.T) {
	argv := []string{"make", "test"}
	args := strings.Join(bwrapArgs(Policy{Mode: WorkspaceWrite, Workspace: "/src/app", Writable: []string{"/cache"}}, bwrapSetup{InfoFD: 3}, argv), " ")
	for _, want := range []string{
		"--die-with-parent", "--new-session", "--unshare-pid",
		"--ro-bind / /", "--dev /dev", "--proc /proc", "--tmpfs /tmp",
		"--unshare-net", "--bind /src/app /src/app", "--bind /cache /cache",
		"--chdir /src/app", "--info-fd 3", "-- make test",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("bwrap args lack %q: %s", want, args)
		}
	}
	if !strings.HasSuffix(args, "-- make test") {
		t.Errorf("the command must come last, after --: %s", args)
	}

	open := strings.Join(bwrapArgs(Policy{Mode: ReadOnly, Workspace: "/src/app", AllowNetwork: true}, bwrapSetup{InfoFD: 3}, argv), " ")
	if strings.Contains(open, "--unshare-net") || strings.Contains(open, "--bind ") {
		t.Errorf("read-only with network must neither unshare the network nor bind anything writable: %s", open)
	}

	underTmp := strings.Join(bwrapArgs(Policy{Mode: ReadOnly, Workspace: "/tmp/ws"}, bwrapSetup{InfoFD: 3}, argv), " ")
	if !strings.Contains(underTmp, "--tmpfs /tmp --setenv TMPDIR /tmp --unshare-net --ro-bind /tmp/ws /tmp/ws") {
		t.Errorf("a read-only workspace under /tmp must be bound back, read-only, after the tmpfs: %s", underTmp)
	}
}

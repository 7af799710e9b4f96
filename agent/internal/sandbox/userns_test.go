package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProc writes sysctl files the way /proc/sys lays them out.
func fakeProc(t *testing.T, settings map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, value := range settings {
		p := filepath.Join(root, strings.ReplaceAll(name, ".", "/"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestUserNSProbe(t *testing.T) {
	ubuntu2404 := map[string]string{sysctlAppArmorUserNS: "1", sysctlMaxUserNS: "63374"}
	profileDir := t.TempDir()
	profile := "abi <abi/4.0>,\ninclude <tunables/global>\nprofile tern-bwrap /opt/tern/libexec/tern/bwrap flags=(unconfined) {\n  userns,\n}\n"
	if err := os.WriteFile(filepath.Join(profileDir, "tern-bwrap"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		settings    map[string]string
		appArmorDir string
		euid        int
		bwrap       string
		wantOK      bool
		wantSetting string
	}{
		{"AppArmor restriction blocks an unprivileged user", ubuntu2404, t.TempDir(), 1000, "/usr/bin/bwrap", false, sysctlAppArmorUserNS},
		{"AppArmor restriction does not bind root", ubuntu2404, t.TempDir(), 0, "/usr/bin/bwrap", true, ""},
		{"a profile granting userns to this bwrap lifts it", ubuntu2404, profileDir, 1000, "/opt/tern/libexec/tern/bwrap", true, ""},
		{"a profile for another bwrap does not", ubuntu2404, profileDir, 1000, "/usr/bin/bwrap", false, sysctlAppArmorUserNS},
		{"restriction off", map[string]string{sysctlAppArmorUserNS: "0"}, t.TempDir(), 1000, "/usr/bin/bwrap", true, ""},
		{"Debian's clone switch off", map[string]string{sysctlUsernsClone: "0"}, t.TempDir(), 1000, "/usr/bin/bwrap", false, sysctlUsernsClone},
		{"no user namespaces at all", map[string]string{sysctlMaxUserNS: "0"}, t.TempDir(), 1000, "/usr/bin/bwrap", false, sysctlMaxUserNS},
		{"nothing set", nil, t.TempDir(), 1000, "/usr/bin/bwrap", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := UserNSProbe{ProcSys: fakeProc(t, tc.settings), AppArmorDir: tc.appArmorDir, Euid: tc.euid}
			c := pr.Check(tc.bwrap)
			if c.OK != tc.wantOK || c.Setting != tc.wantSetting {
				t.Fatalf("Check = %+v, want OK=%v setting=%q", c, tc.wantOK, tc.wantSetting)
			}
			if !c.OK && (!strings.Contains(c.Detail, tc.wantSetting) || !strings.Contains(c.Remedy, "sysctl -w "+tc.wantSetting)) {
				t.Fatalf("detail and remedy must name %s: %+v", tc.wantSetting, c)
			}
		})
	}
}

func TestAppArmorRemedyNamesTheBwrapPath(t *testing.T) {
	pr := UserNSProbe{ProcSys: fakeProc(t, map[string]string{sysctlAppArmorUserNS: "1"}), AppArmorDir: t.TempDir(), Euid: 1000}
	c := pr.Check("/home/u/.local/share/tern/versions/1.0.0/libexec/tern/bwrap")
	if !strings.Contains(c.Remedy, "profile tern-bwrap /home/u/.local/share/tern/versions/1.0.0/libexec/tern/bwrap flags=(unconfined) { userns, }") {
		t.Fatalf("remedy does not give a profile for this bwrap: %s", c.Remedy)
	}
	if !strings.Contains(c.Detail, "RTM_NEWADDR") {
		t.Fatalf("detail should quote the error users see from bwrap: %s", c.Detail)
	}
}

// Package publish puts a verified release where users get it. It publishes
// in an order that never lets users see a half release, and it is
// idempotent: run again after any failure, it finishes the job.
package publish

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/npm"
	"github.com/tern-agent/tern/packager/internal/version"
)

// NPMOptions configure an npm publish.
type NPMOptions struct {
	Registry   string // https://registry.npmjs.org/
	Dir        string // the release directory
	DryRun     bool
	Provenance bool
	NPM        string // the npm CLI
	Log        io.Writer
	Client     *http.Client
}

// npmPackage is one tarball to publish.
type npmPackage struct {
	name, file, integrity string
}

// NPM publishes the release's npm packages: every platform package first,
// the meta package last, so the meta package never points at a package
// that is not there. A version already on the registry is skipped when its
// integrity is ours, and is an error when it is not. With doors.npm false in
// release.yaml it publishes nothing, and says so.
func NPM(ctx context.Context, cfg *config.Config, o NPMOptions) error {
	if !cfg.Doors.NPMOn() {
		fmt.Fprintf(o.Log, "npm skipped: doors.npm is false in release.yaml, so the release has no npm packages to publish\n")
		return nil
	}
	m, err := manifest.Read(filepath.Join(o.Dir, layout.Manifest))
	if err != nil {
		return err
	}
	v, err := semver.StrictNewVersion(m.Version)
	if err != nil {
		return fmt.Errorf("%s: version %q: %w", layout.Manifest, m.Version, err)
	}
	tag := version.DistTag(v)

	pkgs, err := packages(cfg, m, o.Dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "publishing %d npm packages %s to %s with dist-tag %s\n", len(pkgs), m.Version, o.Registry, tag)
	for _, p := range pkgs {
		published, err := publishedIntegrity(ctx, o.client(), o.Registry, p.name, m.Version)
		if err != nil {
			return err
		}
		switch {
		case published == p.integrity:
			fmt.Fprintf(o.Log, "  %s@%s: already published, skipped\n", p.name, m.Version)
			continue
		case published != "":
			return fmt.Errorf("%s@%s is already on %s with integrity %s, but ours is %s: a published version never changes; "+
				"release a new version", p.name, m.Version, o.Registry, published, p.integrity)
		}
		args := []string{"publish", filepath.Join(o.Dir, p.file), "--registry", o.Registry, "--tag", tag, "--access", "public"}
		if o.Provenance {
			args = append(args, "--provenance")
		}
		if o.DryRun {
			args = append(args, "--dry-run")
		}
		cmd := exec.CommandContext(ctx, o.NPM, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("npm %s: %v\n%s\nthe packages before it are published; run the same command again to finish", strings.Join(args, " "), err, out)
		}
		fmt.Fprintf(o.Log, "  %s@%s: published\n", p.name, m.Version)
	}
	return nil
}

// packages lists the tarballs to publish, platform packages first, after
// checking each against the manifest's digest.
func packages(cfg *config.Config, m *manifest.Manifest, dir string) ([]npmPackage, error) {
	var platforms, metas []npmPackage
	for _, a := range m.Artifacts {
		if a.Kind != artifact.NPM {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, a.Name))
		if err != nil {
			return nil, err
		}
		if sum, _, _ := fileutil.SHA256File(filepath.Join(dir, a.Name)); sum != a.SHA256 {
			return nil, fmt.Errorf("%s has sha256 %s, %s says %s: run packager verify", a.Name, sum, layout.Manifest, a.SHA256)
		}
		h := sha512.Sum512(raw)
		p := npmPackage{file: a.Name, integrity: "sha512-" + base64.StdEncoding.EncodeToString(h[:])}
		if a.Target == "" {
			p.name = cfg.NPMMetaPackage()
			metas = append(metas, p)
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok {
			return nil, fmt.Errorf("%s is for target %s, which release.yaml does not have", a.Name, a.Target)
		}
		if !t.InNPM() {
			return nil, fmt.Errorf("%s is for target %s, which has no npm_os and npm_cpu in release.yaml, so no npm package: run packager verify", a.Name, a.Target)
		}
		p.name = cfg.NPMPlatformPackage(t)
		platforms = append(platforms, p)
	}
	if want := len(npm.NPMTargets(cfg)); len(metas) != 1 || len(platforms) != want {
		return nil, fmt.Errorf("%s lists %d meta and %d platform npm packages, want 1 and %d (one per target with npm_os and npm_cpu)", layout.Manifest, len(metas), len(platforms), want)
	}
	sort.Slice(platforms, func(i, j int) bool { return platforms[i].name < platforms[j].name })
	return append(platforms, metas...), nil
}

// publishedIntegrity is the integrity the registry holds for name@version,
// or "" when it holds no such version.
func publishedIntegrity(ctx context.Context, client *http.Client, registry, name, version string) (string, error) {
	u := strings.TrimSuffix(registry, "/") + "/" + url.PathEscape(name)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking %s for %s: %w", registry, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("asking %s for %s: HTTP %s", registry, name, resp.Status)
	}
	var doc struct {
		Versions map[string]struct {
			Dist struct {
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("%s's answer for %s: %w", registry, name, err)
	}
	return doc.Versions[version].Dist.Integrity, nil
}

func (o NPMOptions) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return http.DefaultClient
}

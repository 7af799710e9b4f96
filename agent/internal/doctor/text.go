package doctor

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tern-agent/tern/agent/internal/helperbin"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// WriteText prints the report for a person: facts first, then one line per
// problem with its remedy.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintln(w, r.Tern.String())
	fmt.Fprintf(w, "executable: %s\n", r.Executable)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(r.Helpers) > 0 {
		fmt.Fprintln(tw, "\nhelpers")
		for _, h := range r.Helpers {
			if !h.Found {
				status := "not found"
				if h.Error != "" && len(h.Tried) == 0 {
					status = "refused: " + h.Error
				}
				fmt.Fprintf(tw, "  %s\t%s\n", h.Name, status)
				for _, c := range h.Tried {
					fmt.Fprintf(tw, "    %s\t%s: %s\n", c.Source, c.Path, c.Reason)
				}
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t(%s)\n", h.Name, h.Path, sourceText(h.Source))
			fmt.Fprintf(tw, "  \tversion %s\tsha256 %s\n", h.Version, h.SHA256)
			fmt.Fprintf(tw, "  \tdigest %s\n", h.DigestCheck)
		}
	}

	s := r.Sandbox
	fmt.Fprintln(tw, "\nsandbox")
	backend := string(s.Backend)
	if backend == "" {
		backend = "unavailable"
	} else if s.TrialRun != "" {
		backend += " (trial run " + s.TrialRun + ")"
	}
	fmt.Fprintf(tw, "  default mode\t%s via %s\n", s.DefaultMode, backend)
	if s.Fallback != "" {
		remedy := sandbox.BwrapStartRemedy
		if !s.Host.UserNS.OK {
			remedy = s.Host.UserNS.Remedy
		}
		fmt.Fprintf(tw, "  bwrap\tnot used: %s; Landlock stands in (remedy: %s)\n", s.Fallback, remedy)
	}
	for _, p := range s.Protections {
		fmt.Fprintf(tw, "  %s\t%s\n", p.Name, yesNo(p.Enforced, p.Detail))
	}
	if r.EnvPolicy != "" {
		fmt.Fprintf(tw, "  environment\t%s\n", r.EnvPolicy)
	}
	switch s.Host.OS {
	case "linux":
		fmt.Fprintf(tw, "  user namespaces\t%s\n", yesNo(s.Host.UserNS.OK, s.Host.UserNS.Detail))
		if s.Host.LandlockABI > 0 {
			fmt.Fprintf(tw, "  landlock\tABI %d\n", s.Host.LandlockABI)
		} else {
			fmt.Fprintf(tw, "  landlock\tno: %s\n", s.Host.LandlockErr)
		}
	case "darwin":
		fmt.Fprintf(tw, "  sandbox-exec\t%s\n", yesNo(s.Host.SandboxExec != "", s.Host.SandboxExec))
	}
	tw.Flush()

	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "\nno problems found")
		return
	}
	fmt.Fprintf(w, "\n%d problem(s):\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
}

func sourceText(s helperbin.Source) string {
	switch s {
	case helperbin.FromEnv:
		return "from " + helperbin.EnvBwrap
	case helperbin.Bundled:
		return "shipped with tern"
	case helperbin.FromPath:
		return "found on PATH"
	}
	return string(s)
}

func yesNo(ok bool, detail string) string {
	if ok {
		return "yes: " + detail
	}
	return "no: " + detail
}

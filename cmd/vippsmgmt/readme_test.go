package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vippsmgmt/vippsmgmt/internal/fixtures"
	"github.com/vippsmgmt/vippsmgmt/internal/testserver"
)

// TestREADME holds the README to the code. It checks what the README documents, wherever it
// stands, and never its wording, so a new section only fails it when what it says is wrong:
//   - every route it names (`GET /path`, or a bare `/admin/...` path) is routed by the server,
//     except paths with an empty, "." or ".." segment, which it shows as malformed requests;
//   - every --flag of a vippsmgmt command it shows exists on that command, and every environment
//     variable of the configuration table is read by the program;
//   - every `make TARGET` exists;
//   - every curl against http://localhost:8080 runs against a real server on loopback and gets a
//     2xx (placeholders: YOUR-ACCESS-TOKEN, and T and C for the admin token and a client id);
//   - every vippsmgmt quickstart, admin or report command runs against that server; a transcript
//     ("$ command" followed by its output) must exit 0 and print lines of the documented shape.
func TestREADME(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	srv := testserver.Start(t, "sqlite", testserver.Options{})
	const documentedBase = "http://localhost:8080"

	t.Run("routes", func(t *testing.T) {
		mux := srv.App.Server.Mux()
		routed := func(method, path string) bool {
			path, _, _ = strings.Cut(path, "?")
			path = regexp.MustCompile(`\{[^}/]*\}`).ReplaceAllString(path, "01a20e50-80cd-79f5-8d6b-31387d65c036")
			_, pattern := mux.Handler(httptest.NewRequest(method, path, nil))
			return pattern != "" && pattern != "/"
		}
		seen := 0
		for _, m := range regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`\\s]*)").FindAllStringSubmatch(readme, -1) {
			if strings.Contains(m[2], "...") || !cleanPath(m[2]) {
				continue // an example of a malformed path is not a route
			}
			seen++
			if !routed(m[1], m[2]) {
				t.Errorf("README names %s %s, which no route serves", m[1], m[2])
			}
		}
		for _, m := range regexp.MustCompile("`(/(?:admin|management|register|console|accesstoken|accessToken|miami|openapi|healthz|readyz|metrics)[^`\\s]*)`").FindAllStringSubmatch(readme, -1) {
			if strings.Contains(m[1], "...") || regexp.MustCompile(`^/[a-z]+/v\d+$`).MatchString(m[1]) || !cleanPath(m[1]) {
				continue // a prefix such as /admin/v1, or an example of a malformed path
			}
			seen++
			if !slices.ContainsFunc([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, func(method string) bool { return routed(method, m[1]) }) {
				t.Errorf("README names %s, which no route serves", m[1])
			}
		}
		if seen < 10 {
			t.Errorf("only %d routes found in the README: is the parser still right?", seen)
		}
	})

	cmds := readmeCommands(readme)
	t.Run("flags", func(t *testing.T) {
		checked := 0
		for _, c := range cmds {
			if c.sub == "" {
				continue
			}
			known := commandFlags(t, c.sub, c.adminCommand())
			for _, a := range c.args {
				if !strings.HasPrefix(a, "--") || a == "--" {
					continue
				}
				name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				checked++
				if !known[name] && name != "help" {
					t.Errorf("README shows `vippsmgmt %s ... %s`, which has no such flag (line: %s)", c.sub, a, c.line)
				}
			}
		}
		serveFlags := commandFlags(t, "serve", "")
		var source strings.Builder
		files, _ := filepath.Glob("*.go")
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				b, _ := os.ReadFile(f)
				source.Write(b)
			}
		}
		for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)` \\| (?:`(VIPPSMGMT_[A-Z_]+)`)?").FindAllStringSubmatch(readme, -1) {
			checked++
			if !serveFlags[m[1]] {
				t.Errorf("the configuration table lists --%s, which serve does not take", m[1])
			}
			if m[2] != "" && !strings.Contains(source.String(), `"`+m[2]+`"`) {
				t.Errorf("the configuration table lists %s, which the program never reads", m[2])
			}
		}
		if checked < 20 {
			t.Errorf("only %d flags found in the README: is the parser still right?", checked)
		}
	})

	t.Run("make targets", func(t *testing.T) {
		makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?m)(?:^|`)make ([a-z][a-z-]*)").FindAllStringSubmatch(readme, -1) {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).Match(makefile) {
				t.Errorf("README mentions `make %s`, which the Makefile lacks", m[1])
			}
		}
	})

	a := readmeClient{t: t, base: srv.URL}
	token := a.partnerToken()
	substitute := strings.NewReplacer(documentedBase, srv.URL, "YOUR-ACCESS-TOKEN", token,
		"Bearer T", "Bearer "+testserver.AdminToken, "clientId=C", "clientId="+fixtures.DemoPartnerKeys.ClientID)

	t.Run("curl", func(t *testing.T) {
		ran := 0
		for _, c := range cmds {
			if c.tool != "curl" || !slices.ContainsFunc(c.args, func(a string) bool { return strings.HasPrefix(a, documentedBase) }) {
				continue
			}
			ran++
			status, body := a.curl(c.args, substitute)
			if status < 200 || status > 299 {
				t.Errorf("README curl answered %d: %s\n%s", status, body, c.line)
			}
		}
		if ran < 2 {
			t.Errorf("only %d curl examples found in the README: is the parser still right?", ran)
		}
	})

	t.Run("cli", func(t *testing.T) {
		ran := 0
		for _, c := range cmds {
			if c.inline || !slices.Contains([]string{"quickstart", "admin", "report"}, c.sub) || strings.Contains(c.line, "…") ||
				slices.ContainsFunc(c.args, func(a string) bool { return strings.HasPrefix(a, "http") && !strings.HasPrefix(a, documentedBase) }) {
				continue // another server's example: production keys are not ours to use
			}
			args := []string{c.sub}
			for i, arg := range c.args {
				switch {
				case arg == "T" && i > 0 && c.args[i-1] == "--admin-token":
					arg = testserver.AdminToken
				case arg == "C" && i > 0 && c.args[i-1] == "--client-id":
					arg = fixtures.DemoPartnerKeys.ClientID
				}
				args = append(args, substitute.Replace(arg))
			}
			env := map[string]string{"VIPPSMGMT_BASE_URL": srv.URL, "VIPPSMGMT_ADMIN_TOKEN": testserver.AdminToken}
			ran++
			out, errOut, code := runCLI(t, env, args...)
			if c.output == nil {
				// Not a transcript: a wrong flag or argument is exit 2; 1 may be the documented
				// answer (report --fail-on).
				if code == 2 {
					t.Errorf("README command is a usage error: %s\n%s", c.line, errOut)
				}
				continue
			}
			if code != 0 {
				t.Errorf("README transcript exited %d: %s\n%s%s", code, c.line, out, errOut)
				continue
			}
			got := strings.Split(strings.TrimRight(normaliseTranscript(out, srv.URL), "\n"), "\n")
			want := c.output
			for i := range want {
				want[i] = normaliseTranscript(want[i], documentedBase)
			}
			if len(got) != len(want) {
				t.Errorf("README transcript of %s shows %d lines, the command prints %d:\n%s", c.line, len(want), len(got), strings.Join(got, "\n"))
				continue
			}
			for i := range want {
				if p := min(len(want[i]), 23); len(got[i]) < p || got[i][:p] != want[i][:p] {
					t.Errorf("README transcript line %d is %q, the command prints %q", i+1, want[i], got[i])
				}
			}
		}
		if ran < 2 {
			t.Errorf("only %d CLI examples found in the README: is the parser still right?", ran)
		}
	})
}

// cleanPath reports whether p has no empty, "." or ".." segment: such paths are what the README
// shows as malformed requests, never as routes.
func cleanPath(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	return path.Clean(p) == strings.TrimSuffix(p, "/") || p == "/"
}

var transcriptNoise = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

func normaliseTranscript(s, base string) string {
	return transcriptNoise.ReplaceAllString(strings.ReplaceAll(s, base, "BASE"), "X")
}

// readmeCommand is one command shown in the README: in a code block (continuation lines joined)
// or in an inline code span.
type readmeCommand struct {
	line   string   // as shown
	tool   string   // "vippsmgmt", "curl", or another program
	sub    string   // vippsmgmt subcommand
	args   []string // after the subcommand (vippsmgmt) or the program
	output []string // a transcript's output lines; nil when the README shows none
	inline bool     // an inline code span: prose about a command, checked but not run
}

// adminCommand is the operator command of `vippsmgmt admin`, if any.
func (c readmeCommand) adminCommand() string {
	if c.sub != "admin" {
		return ""
	}
	for i := 0; i < len(c.args); i++ {
		switch a := c.args[i]; {
		case a == "--base-url" || a == "--admin-token":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

func readmeCommands(readme string) []readmeCommand {
	var out []readmeCommand
	add := func(line string, output []string, inline bool) {
		words := shellWords(line)
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
			words = words[1:]
		}
		if len(words) == 0 {
			return
		}
		c := readmeCommand{line: line, tool: words[0], args: words[1:], output: output, inline: inline}
		switch {
		case len(words) >= 4 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/vippsmgmt":
			c.tool, c.sub, c.args = "vippsmgmt", words[3], words[4:]
		case len(words) >= 2 && words[0] == "vippsmgmt":
			c.tool, c.sub, c.args = "vippsmgmt", words[1], words[2:]
		}
		out = append(out, c)
	}
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			// Inline spans: `vippsmgmt ...` only (flags are checked, nothing is run).
			for _, m := range regexp.MustCompile("`(vippsmgmt [^`]+)`").FindAllStringSubmatch(lines[i], -1) {
				add(m[1], nil, true)
			}
			continue
		}
		lang := strings.TrimPrefix(lines[i], "```")
		var block []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			block = append(block, lines[i])
		}
		if lang != "" && lang != "sh" {
			continue // Go, YAML: not commands
		}
		for j := 0; j < len(block); j++ {
			line := block[j]
			transcript := strings.HasPrefix(line, "$ ")
			line = strings.TrimPrefix(line, "$ ")
			for strings.HasSuffix(line, "\\") && j+1 < len(block) {
				j++
				line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(block[j])
			}
			if k := strings.Index(line, " # "); k >= 0 {
				line = line[:k]
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if !transcript {
				if lang == "sh" {
					add(line, nil, false)
				}
				continue
			}
			var output []string
			for j+1 < len(block) && !strings.HasPrefix(block[j+1], "$ ") {
				j++
				output = append(output, block[j])
			}
			add(line, output, false)
		}
	}
	return out
}

// shellWords splits a command line as sh would for the quoting the README uses.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				end = len(s) - i - 1
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// commandFlags lists the flags a vippsmgmt command takes, from its own -h output, which needs
// neither a server nor credentials.
func commandFlags(t *testing.T, sub, adminCommand string) map[string]bool {
	t.Helper()
	calls := [][]string{{sub, "-h"}}
	if adminCommand != "" {
		calls = append(calls, []string{sub, adminCommand, "-h"})
	}
	flags := map[string]bool{}
	for _, args := range calls {
		out, errOut, _ := runCLI(t, nil, args...)
		for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(out+errOut, -1) {
			flags[m[1]] = true
		}
	}
	return flags
}

type readmeClient struct {
	t    *testing.T
	base string
}

func (c readmeClient) partnerToken() string {
	c.t.Helper()
	k := fixtures.DemoPartnerKeys
	status, body := c.curl([]string{"-X", "POST", c.base + "/accesstoken/get", "-H", "client_id: " + k.ClientID,
		"-H", "client_secret: " + k.ClientSecret, "-H", "Ocp-Apim-Subscription-Key: " + k.SubscriptionKey}, strings.NewReplacer())
	m := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(body)
	if status != 200 || m == nil {
		c.t.Fatalf("token: %d %s", status, body)
	}
	return m[1]
}

// curl sends what the curl arguments say (-X, -H, --data/-d and the URL) and returns the status
// and body.
func (c readmeClient) curl(args []string, sub *strings.Replacer) (int, string) {
	c.t.Helper()
	method, url := "", ""
	var body io.Reader
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := sub.Replace(args[i]); {
		case (a == "-X" || a == "--request") && i+1 < len(args):
			i++
			method = args[i]
		case (a == "-H" || a == "--header") && i+1 < len(args):
			i++
			k, v, _ := strings.Cut(sub.Replace(args[i]), ":")
			header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		case (a == "-d" || a == "--data" || a == "--data-raw") && i+1 < len(args):
			i++
			body = strings.NewReader(sub.Replace(args[i]))
			if method == "" {
				method = http.MethodPost
			}
		case strings.HasPrefix(a, "http"):
			url = a
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		c.t.Fatalf("curl %v: %v", args, err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("curl %v: %v", args, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b.String()
}

package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Lint checks text against the rules of the text exposition format that scrapers rely on: every
// family opens with # HELP and # TYPE lines, families come once each and sorted by name, each
// sample belongs to its family, parses and comes once (a scraper refuses a repeated series), counters are not negative, a histogram's buckets
// ascend to +Inf with cumulative counts and its _count equals the +Inf bucket, and a summary
// has its _sum and _count. It is how tests hold this package's and the server's output to the
// format without a parser from elsewhere.
func Lint(text []byte) error {
	s := string(text)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		return fmt.Errorf("the text does not end with a newline")
	}
	var (
		name, typ, pendingHelp string
		seen                   = map[string]bool{}
		samples                = map[string]bool{} // name and labels of each sample line of the family
		hist                   = map[string]*histState{}
		summ                   = map[string]*[2]bool{} // series -> has _sum, has _count
	)
	finish := func() error {
		for series, h := range hist {
			if err := h.check(); err != nil {
				return fmt.Errorf("%s%s: %w", name, series, err)
			}
		}
		for series, sc := range summ {
			if !sc[0] || !sc[1] {
				return fmt.Errorf("summary %s%s lacks its _sum or _count", name, series)
			}
		}
		clear(hist)
		clear(summ)
		clear(samples)
		return nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		n := i + 1
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			if pendingHelp != "" {
				return fmt.Errorf("line %d: # HELP %s without its # TYPE", n, pendingHelp)
			}
			if err := finish(); err != nil {
				return err
			}
			fam, help, _ := strings.Cut(rest, " ")
			if !validMetricName(fam) {
				return fmt.Errorf("line %d: invalid metric name %q", n, fam)
			}
			if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(help, `\\`, ""), `\n`, ""), `\`) {
				return fmt.Errorf("line %d: help text with a stray backslash", n)
			}
			if seen[fam] {
				return fmt.Errorf("line %d: family %s twice", n, fam)
			}
			if fam < name {
				return fmt.Errorf("line %d: family %s after %s: not sorted", n, fam, name)
			}
			seen[fam], pendingHelp, name, typ = true, fam, fam, ""
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			fam, t, _ := strings.Cut(rest, " ")
			if fam != pendingHelp {
				return fmt.Errorf("line %d: # TYPE %s does not follow its # HELP", n, fam)
			}
			switch Type(t) {
			case TypeCounter, TypeGauge, TypeHistogram, TypeSummary:
			default:
				return fmt.Errorf("line %d: type %q", n, t)
			}
			pendingHelp, typ = "", t
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			return fmt.Errorf("line %d: %q is neither HELP, TYPE nor a sample", n, line)
		}
		if typ == "" {
			return fmt.Errorf("line %d: sample outside a family", n)
		}
		sm, labels, value, err := parseSample(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		suffix, ok := strings.CutPrefix(sm, name)
		if !ok {
			return fmt.Errorf("line %d: sample %s in family %s", n, sm, name)
		}
		series, le, quantile := seriesKey(labels)
		key := fmt.Sprintf("%s{%sle=%q,quantile=%q}", sm, series, le, quantile)
		if samples[key] {
			return fmt.Errorf("line %d: %s repeats a sample line before it", n, line)
		}
		samples[key] = true
		switch Type(typ) {
		case TypeCounter, TypeGauge:
			if suffix != "" || le != "" || quantile != "" {
				return fmt.Errorf("line %d: sample %s in %s family %s", n, sm, typ, name)
			}
			if typ == string(TypeCounter) && !(value >= 0) {
				return fmt.Errorf("line %d: counter %s is %v", n, name, value)
			}
		case TypeHistogram:
			h := hist[series]
			if h == nil {
				h = &histState{lastLE: math.Inf(-1)}
				hist[series] = h
			}
			if err := h.add(suffix, le, value); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
		case TypeSummary:
			sc := summ[series]
			if sc == nil {
				sc = new([2]bool)
				summ[series] = sc
			}
			switch suffix {
			case "":
				q, err := strconv.ParseFloat(quantile, 64)
				if err != nil || q < 0 || q > 1 {
					return fmt.Errorf("line %d: quantile %q", n, quantile)
				}
			case "_sum":
				sc[0] = true
			case "_count":
				sc[1] = true
			default:
				return fmt.Errorf("line %d: sample %s in summary %s", n, sm, name)
			}
		}
	}
	if pendingHelp != "" {
		return fmt.Errorf("# HELP %s without its # TYPE", pendingHelp)
	}
	return finish()
}

// histState follows one histogram series through its lines.
type histState struct {
	lastLE           float64
	lastCount        float64
	buckets          int
	inf, sum, count  bool
	infCount, counts float64
}

func (h *histState) add(suffix, le string, value float64) error {
	switch suffix {
	case "_bucket":
		if h.inf {
			return fmt.Errorf("bucket after le=\"+Inf\"")
		}
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return fmt.Errorf("bucket le=%q", le)
		}
		if bound <= h.lastLE {
			return fmt.Errorf("le=%q does not ascend", le)
		}
		if value < h.lastCount {
			return fmt.Errorf("bucket le=%q counts %v, fewer than the bucket before: not cumulative", le, value)
		}
		h.lastLE, h.lastCount, h.buckets = bound, value, h.buckets+1
		if math.IsInf(bound, +1) {
			h.inf, h.infCount = true, value
		}
	case "_sum":
		h.sum = true
	case "_count":
		h.count, h.counts = true, value
	default:
		return fmt.Errorf("histogram sample suffix %q", suffix)
	}
	return nil
}

func (h *histState) check() error {
	switch {
	case !h.inf:
		return fmt.Errorf("no le=\"+Inf\" bucket")
	case !h.sum || !h.count:
		return fmt.Errorf("lacks its _sum or _count")
	case h.counts != h.infCount:
		return fmt.Errorf("_count %v differs from the +Inf bucket's %v", h.counts, h.infCount)
	}
	return nil
}

// seriesKey renders labels, sorted by name, without le and quantile, which tell a series' lines
// apart.
func seriesKey(labels []Label) (key, le, quantile string) {
	var b strings.Builder
	for _, l := range slices.SortedFunc(slices.Values(labels), func(x, y Label) int { return strings.Compare(x.Name, y.Name) }) {
		switch l.Name {
		case "le":
			le = l.Value
		case "quantile":
			quantile = l.Value
		default:
			fmt.Fprintf(&b, "%s=%q,", l.Name, l.Value)
		}
	}
	return b.String(), le, quantile
}

// parseSample splits name{label="value",...} value.
func parseSample(line string) (name string, labels []Label, value float64, err error) {
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", nil, 0, fmt.Errorf("sample %q without a value", line)
	}
	name, rest := line[:i], line[i:]
	if !validMetricName(name) {
		return "", nil, 0, fmt.Errorf("invalid metric name %q", name)
	}
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			ln, after, ok := strings.Cut(rest, `="`)
			if !ok || !validLabelName(ln) {
				return "", nil, 0, fmt.Errorf("bad label in %q", line)
			}
			var v strings.Builder
			j := 0
			for ; j < len(after) && after[j] != '"'; j++ {
				c := after[j]
				if c == '\\' {
					j++
					if j == len(after) {
						break
					}
					switch after[j] {
					case '\\', '"':
						c = after[j]
					case 'n':
						c = '\n'
					default:
						return "", nil, 0, fmt.Errorf("escape \\%c in %q", after[j], line)
					}
				}
				v.WriteByte(c)
			}
			if j >= len(after) {
				return "", nil, 0, fmt.Errorf("unterminated label value in %q", line)
			}
			for _, l := range labels {
				if l.Name == ln {
					return "", nil, 0, fmt.Errorf("label %s twice in %q", ln, line)
				}
			}
			labels = append(labels, Label{ln, v.String()})
			rest = after[j+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return "", nil, 0, fmt.Errorf("labels not separated by commas in %q", line)
			}
		}
		rest = rest[1:]
	}
	v, ok := strings.CutPrefix(rest, " ")
	if !ok || strings.Contains(v, " ") {
		return "", nil, 0, fmt.Errorf("sample %q: one space and a value expected after the labels", line)
	}
	if value, err = strconv.ParseFloat(v, 64); err != nil {
		return "", nil, 0, fmt.Errorf("value %q of %s", v, name)
	}
	return name, labels, value, nil
}

// Package manifest reads shader sources the way the compiler does: their
// variants and includes. Both the generator and the staleness test use it,
// so neither needs glslc to agree on a hash.
package manifest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Flags are glslc's flags for every shader.
var Flags = []string{"-O", "--target-env=vulkan1.2"}

// Variant is one compiled form of a source.
type Variant struct {
	Output  string   // file name under spv/
	Defines []string // -D flags
}

// Variants lists a source's compiled forms from its //!variant lines.
func Variants(src string) ([]Variant, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(filepath.Base(src), ".comp")
	var out []Variant
	plain := true
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "//!novariant-base" {
			plain = false
		}
		if rest, ok := strings.CutPrefix(line, "//!variant "); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return nil, fmt.Errorf("%s: empty //!variant line", src)
			}
			out = append(out, Variant{Output: base + "_" + f[0] + ".spv", Defines: f[1:]})
		}
	}
	if plain {
		out = append([]Variant{{Output: base + ".spv"}}, out...)
	}
	return out, nil
}

// Hash is the sha256 of the source, each include it reaches (depth first, in
// order of appearance, each once) and the compile flags.
func Hash(src string) (string, error) {
	h := sha256.New()
	seen := map[string]bool{}
	var walk func(path string) error
	walk = func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(path), len(data))
		h.Write(data)
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if rest, ok := strings.CutPrefix(line, "#include"); ok {
				name := strings.Trim(strings.TrimSpace(rest), `"<>`)
				if err := walk(filepath.Join(filepath.Dir(src), name)); err != nil {
					return fmt.Errorf("%s: include %q: %w", path, name, err)
				}
			}
		}
		return nil
	}
	if err := walk(src); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%q", Flags)
	return hex.EncodeToString(h.Sum(nil)), nil
}

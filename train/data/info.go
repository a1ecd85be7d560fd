// File checksums for `vkclr data info`, checked against the published ones.
package data

import (
	"crypto/sha256"
	"os"
	"path/filepath"
)

// officialSHA256 holds the published SHA-256 of the official files, by base name.
var officialSHA256 = map[string]map[string]string{
	CIFAR10: {
		"data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
		"data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
		"data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
		"data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
		"data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
		"test_batch.bin":   "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
	},
}

// FileSum is one source file's size and checksum.
type FileSum struct {
	Path   string
	Size   int64
	SHA256 string
	// Official is "match" or "MISMATCH" when the published checksum of the
	// file is known, "" otherwise.
	Official string
}

// Checksums hashes the regular files among d.Sources (an image folder's
// root is skipped: Digest covers its content).
func (d *Dataset) Checksums() ([]FileSum, error) {
	var out []FileSum
	for _, p := range d.Sources {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			continue
		}
		sum, err := fileHash(p, sha256.New())
		if err != nil {
			return nil, err
		}
		fs := FileSum{Path: p, Size: st.Size(), SHA256: sum}
		if want, ok := officialSHA256[d.Name][filepath.Base(p)]; ok {
			fs.Official = "match"
			if want != sum {
				fs.Official = "MISMATCH"
			}
		}
		out = append(out, fs)
	}
	return out, nil
}

// Command mkicons writes MailSneaker's application icon (the envelope with no
// badge) as PNGs in the hicolor theme layout, DIR/NxN/apps/mailsneaker.png,
// for make install; with -ico it also writes a Windows .ico holding every one
// of those sizes (Explorer wants up to 256 px), for the .exe's resources.
//
//	go run ./icons/cmd/mkicons -out DIR [-ico FILE]
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"mailsneaker/icons"
)

func main() {
	out := flag.String("out", "", "directory to write NxN/apps/mailsneaker.png into")
	ico := flag.String("ico", "", "also write a Windows icon with every size to this file")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkicons -out DIR [-ico FILE]")
		os.Exit(2)
	}
	if err := run(*out, *ico); err != nil {
		fmt.Fprintln(os.Stderr, "mkicons:", err)
		os.Exit(1)
	}
}

func run(out, ico string) error {
	// The hicolor sizes desktops look up for an application icon; each one
	// is drawn at its size, not scaled.
	sizes := []int{16, 22, 24, 32, 48, 64, 128, 256}
	var pngs [][]byte
	for _, n := range sizes {
		dir := filepath.Join(out, fmt.Sprintf("%dx%d", n, n), "apps")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		b := icons.PNG(icons.State{}, n)
		pngs = append(pngs, b)
		if err := os.WriteFile(filepath.Join(dir, "mailsneaker.png"), b, 0o644); err != nil {
			return err
		}
	}
	if ico == "" {
		return nil
	}
	return os.WriteFile(ico, encodeICO(sizes, pngs), 0o644)
}

// encodeICO writes an ICONDIR, one ICONDIRENTRY per image and the PNG images
// (PNG entries are supported since Windows Vista; 256 is written as 0).
func encodeICO(sizes []int, pngs [][]byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, 0))
	b.Write(le.AppendUint16(nil, 1)) // type: icon
	b.Write(le.AppendUint16(nil, uint16(len(sizes))))
	offset := 6 + 16*len(sizes)
	for i, n := range sizes {
		dim := byte(n % 256)
		b.Write([]byte{dim, dim, 0, 0})
		b.Write(le.AppendUint16(nil, 1))  // colour planes
		b.Write(le.AppendUint16(nil, 32)) // bits per pixel
		b.Write(le.AppendUint32(nil, uint32(len(pngs[i]))))
		b.Write(le.AppendUint32(nil, uint32(offset)))
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		b.Write(p)
	}
	return b.Bytes()
}

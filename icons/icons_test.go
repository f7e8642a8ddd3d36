package icons

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.png from the current drawing")

// goldenStates are the variants kept as golden images, by file name part.
var goldenStates = []struct {
	name string
	s    State
}{
	{"empty", State{}},
	{"1", State{Count: 1}},
	{"7", State{Count: 7}},
	{"42", State{Count: 42}},
	{"99plus", State{Count: 100}},
	{"error", State{Error: true}},
	{"3-error", State{Count: 3, Error: true}},
	{"offline", State{Offline: true}},
}

var goldenSizes = []int{16, 22, 32, 48}

func goldenPath(size int, name string) string {
	return filepath.Join("testdata", fmt.Sprintf("%d-%s.png", size, name))
}

func TestGolden(t *testing.T) {
	for _, size := range goldenSizes {
		for _, g := range goldenStates {
			t.Run(fmt.Sprintf("%d/%s", size, g.name), func(t *testing.T) {
				// Compare what a PNG stores: the drawing after encoding.
				got, err := png.Decode(bytes.NewReader(encodePNG(g.s, size)))
				if err != nil {
					t.Fatal(err)
				}
				path := goldenPath(size, g.name)
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, encodePNG(g.s, size), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want := readPNG(t, path)
				if d := diff(got, want); d != "" {
					t.Errorf("%s differs (go test ./icons -update rewrites it): %s", path, d)
				}
			})
		}
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./icons -update writes it)", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// diff compares two decoded PNGs pixel for pixel as non-premultiplied
// colours and describes the first difference.
func diff(got, want image.Image) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := got.Bounds()
	n := 0
	first := ""
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g, w := nrgba(got, x, y), nrgba(want, x, y)
			if g != w {
				if n == 0 {
					first = fmt.Sprintf("first at (%d,%d): %v, want %v", x, y, g, w)
				}
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d pixels differ, %s", n, first)
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

func TestNormal(t *testing.T) {
	tests := []struct {
		in, want State
	}{
		{State{Count: -3}, State{}},
		{State{Count: 99}, State{Count: 99}},
		{State{Count: 100}, State{Count: 100}},
		{State{Count: 12345}, State{Count: 100}},
		{State{Count: 2, Error: true, Offline: true}, State{Count: 2, Offline: true}},
	}
	for _, tt := range tests {
		if got := tt.in.Normal(); got != tt.want {
			t.Errorf("%+v.Normal() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestBadgeText(t *testing.T) {
	for n, want := range map[int]string{0: "", 1: "1", 9: "9", 10: "10", 99: "99", 100: "99+", 5000: "99+"} {
		if got := badgeText(State{Count: n}.Normal().Count); got != want {
			t.Errorf("badgeText(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestVariantsDistinct checks that every state the tray can show draws a
// different picture at the smallest size, and that counts above 99 collapse.
func TestVariantsDistinct(t *testing.T) {
	seen := map[string]State{}
	for c := 0; c <= MaxCount+1; c++ {
		for _, s := range []State{{Count: c}, {Count: c, Error: true}, {Count: c, Offline: true}} {
			k := string(PNG(s, 16))
			if prev, dup := seen[k]; dup {
				t.Errorf("%+v draws the same as %+v", s, prev)
			}
			seen[k] = s
		}
	}
	if !bytes.Equal(PNG(State{Count: 150}, 16), PNG(State{Count: 100}, 16)) {
		t.Error("counts above 99 draw differently")
	}
}

func TestCacheShares(t *testing.T) {
	a, b := PNG(State{Count: 5}, 22), PNG(State{Count: 5}, 22)
	if &a[0] != &b[0] {
		t.Error("PNG re-encoded a cached variant")
	}
	c, d := ICO(State{Count: 5}), ICO(State{Count: 5})
	if &c[0] != &d[0] {
		t.Error("ICO re-encoded a cached variant")
	}
}

// TestICO parses the icon directory and checks each entry is the PNG of
// its size.
func TestICO(t *testing.T) {
	s := State{Count: 3, Error: true}
	b := ICO(s)
	le := binary.LittleEndian
	if le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 {
		t.Fatalf("bad ICONDIR header % x", b[:6])
	}
	if n := int(le.Uint16(b[4:])); n != len(ICOSizes) {
		t.Fatalf("%d images, want %d", n, len(ICOSizes))
	}
	for i, size := range ICOSizes {
		e := b[6+16*i:]
		if int(e[0]) != size || int(e[1]) != size {
			t.Errorf("entry %d: %dx%d, want %d", i, e[0], e[1], size)
		}
		if bpp := le.Uint16(e[6:]); bpp != 32 {
			t.Errorf("entry %d: %d bpp", i, bpp)
		}
		n, off := le.Uint32(e[8:]), le.Uint32(e[12:])
		if int(off+n) > len(b) {
			t.Fatalf("entry %d: data [%d,+%d) past the end (%d)", i, off, n, len(b))
		}
		if !bytes.Equal(b[off:off+n], PNG(s, size)) {
			t.Errorf("entry %d is not the %d px PNG", i, size)
		}
	}
}

func TestRenderSizes(t *testing.T) {
	for _, size := range []int{1, 8, 16, 22, 24, 32, 64, 1000} {
		img := Render(State{Count: 100, Error: true}, size)
		want := min(max(size, MinSize), MaxSize)
		if b := img.Bounds(); b.Dx() != want || b.Dy() != want {
			t.Errorf("Render(_, %d) is %v, want %d px", size, b, want)
		}
	}
}

func TestForTray(t *testing.T) {
	b := ForTray(State{Count: 2})
	if len(b) < 8 {
		t.Fatal("empty icon")
	}
	isPNG := bytes.HasPrefix(b, []byte("\x89PNG"))
	isICO := bytes.HasPrefix(b, []byte{0, 0, 1, 0})
	if !isPNG && !isICO {
		t.Fatalf("ForTray returned neither PNG nor ICO: % x", b[:8])
	}
}

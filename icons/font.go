package icons

// glyph is a bitmap character: rows top to bottom, '#' lit.
type glyph []string

// bitmapFont is a fixed-height bitmap font for the badge: digits and '+'.
type bitmapFont struct {
	w, h   int // cell size in font pixels
	glyphs map[rune]glyph
}

// font3x5 is for the smallest badges (16 px icons).
var font3x5 = bitmapFont{w: 3, h: 5, glyphs: map[rune]glyph{
	'0': {"###", "#.#", "#.#", "#.#", "###"},
	'1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"},
	'3': {"###", "..#", ".##", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"},
	'5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"},
	'7': {"###", "..#", "..#", ".#.", ".#."},
	'8': {"###", "#.#", "###", "#.#", "###"},
	'9': {"###", "#.#", "###", "..#", "###"},
	'+': {"...", ".#.", "###", ".#.", "..."},
}}

// font5x7 is for everything larger, drawn at an integer scale.
var font5x7 = bitmapFont{w: 5, h: 7, glyphs: map[rune]glyph{
	'0': {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	'1': {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2': {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3': {".###.", "#...#", "....#", "..##.", "....#", "#...#", ".###."},
	'4': {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5': {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6': {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7': {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8': {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9': {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
	'+': {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."},
}}

// textWidth is the width in image pixels of s at scale k, with one font
// pixel of space between glyphs.
func (f bitmapFont) textWidth(s string, k int) int {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return k * (n*f.w + (n - 1))
}

// bitmap returns the glyph for r at scale k as rows of lit pixels. Scales
// 2 and 3 use the Scale2x/Scale3x rules, which round off the staircase
// of diagonal strokes instead of drawing big square blocks; '+' has none
// and keeps its square arms.
func (f bitmapFont) bitmap(r rune, k int) [][]bool {
	g := f.glyphs[r]
	smooth := r != '+'
	at := func(x, y int) bool {
		return y >= 0 && y < len(g) && x >= 0 && x < len(g[y]) && g[y][x] == '#'
	}
	out := make([][]bool, f.h*k)
	for i := range out {
		out[i] = make([]bool, f.w*k)
	}
	for y := range f.h {
		for x := range f.w {
			a, b, c := at(x-1, y-1), at(x, y-1), at(x+1, y-1)
			d, e, ff := at(x-1, y), at(x, y), at(x+1, y)
			gg, h, i := at(x-1, y+1), at(x, y+1), at(x+1, y+1)
			var cell []bool // k×k, row-major
			mode := k
			if !smooth {
				mode = 0
			}
			switch mode {
			case 2:
				cell = []bool{
					pick(d == b && d != h && b != ff, d, e), pick(b == ff && b != d && ff != h, ff, e),
					pick(d == h && d != b && h != ff, d, e), pick(h == ff && h != d && ff != b, ff, e),
				}
			case 3:
				cell = []bool{
					pick(d == b && b != ff && d != h, d, e),
					pick((d == b && b != ff && d != h && e != c) || (b == ff && b != d && ff != h && e != a), b, e),
					pick(b == ff && b != d && ff != h, ff, e),
					pick((d == b && b != ff && d != h && e != gg) || (d == h && d != b && h != ff && e != a), d, e),
					e,
					pick((b == ff && b != d && ff != h && e != i) || (h == ff && d != h && b != ff && e != c), ff, e),
					pick(d == h && d != b && h != ff, d, e),
					pick((d == h && d != b && h != ff && e != i) || (h == ff && d != h && b != ff && e != gg), h, e),
					pick(h == ff && d != h && b != ff, ff, e),
				}
			default:
				cell = make([]bool, k*k)
				for j := range cell {
					cell[j] = e
				}
			}
			for j, lit := range cell {
				out[y*k+j/k][x*k+j%k] = lit
			}
		}
	}
	return out
}

func pick(cond, a, b bool) bool {
	if cond {
		return a
	}
	return b
}

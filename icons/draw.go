package icons

import (
	"image"
	"image/color"
)

// sub is the number of subpixel units per pixel. Shapes are tested at 4×4
// sample points per pixel (odd subpixel positions) with integer arithmetic
// only, so the output is identical on every platform and the golden files
// can be compared pixel for pixel.
const sub = 8

// MinSize and MaxSize bound the sizes Render draws; others are clamped.
const (
	MinSize = 8
	MaxSize = 256
)

type palette struct {
	line, paper    color.RGBA // envelope outline and flap; envelope body
	badge, digits  color.RGBA
	ring           color.RGBA // separates badge and mark from the envelope
	warn, warnMark color.RGBA
}

var (
	colorful = palette{
		line:     color.RGBA{0x37, 0x47, 0x4f, 0xff},
		paper:    color.RGBA{0xff, 0xff, 0xff, 0xff},
		badge:    color.RGBA{0xe5, 0x39, 0x35, 0xff},
		digits:   color.RGBA{0xff, 0xff, 0xff, 0xff},
		ring:     color.RGBA{0xff, 0xff, 0xff, 0xff},
		warn:     color.RGBA{0xff, 0xa0, 0x00, 0xff},
		warnMark: color.RGBA{0x21, 0x21, 0x21, 0xff},
	}
	grey = palette{
		line:   color.RGBA{0x8a, 0x8a, 0x8a, 0xff},
		paper:  color.RGBA{0xe6, 0xe6, 0xe6, 0xff},
		badge:  color.RGBA{0x8a, 0x8a, 0x8a, 0xff},
		digits: color.RGBA{0xff, 0xff, 0xff, 0xff},
		ring:   color.RGBA{0xf5, 0xf5, 0xf5, 0xff},
	}
)

// Render draws s as a size×size image with a transparent background. The
// geometry is worked out for each size, not scaled from a larger drawing.
func Render(s State, size int) image.Image {
	size = min(max(size, MinSize), MaxSize)
	s = s.Normal()
	p := colorful
	if s.Offline {
		p = grey
	}
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, size, size)), n: size}
	c.envelope(p)
	if t := badgeText(s.Count); t != "" {
		c.badge(p, t)
	}
	if s.Error {
		c.warning(p)
	}
	return c.img
}

// canvas is an image being drawn, with shape tests in subpixel units.
type canvas struct {
	img *image.RGBA
	n   int // size in pixels
}

// fill paints col over every pixel in proportion to how many of its 16
// sample points satisfy inside (given subpixel coordinates).
func (c *canvas) fill(col color.RGBA, inside func(x, y int) bool) {
	for py := 0; py < c.n; py++ {
		for px := 0; px < c.n; px++ {
			cov := 0
			for sy := 1; sy < sub; sy += 2 {
				for sx := 1; sx < sub; sx += 2 {
					if inside(px*sub+sx, py*sub+sy) {
						cov++
					}
				}
			}
			if cov > 0 {
				c.blend(px, py, col, cov)
			}
		}
	}
}

// blend composites the opaque col over pixel (x, y) with coverage cov/16.
func (c *canvas) blend(x, y int, col color.RGBA, cov int) {
	i := c.img.PixOffset(x, y)
	d := c.img.Pix[i : i+4 : i+4]
	src := [4]int{int(col.R), int(col.G), int(col.B), 0xff}
	for k := range 4 {
		d[k] = uint8((src[k]*cov + int(d[k])*(16-cov) + 8) / 16)
	}
}

// rect paints whole pixels [x0,x1)×[y0,y1).
func (c *canvas) rect(col color.RGBA, x0, y0, x1, y1 int) {
	for y := max(y0, 0); y < min(y1, c.n); y++ {
		for x := max(x0, 0); x < min(x1, c.n); x++ {
			c.blend(x, y, col, 16)
		}
	}
}

// roundRect reports whether (x, y) lies in the rectangle [x0,x1)×[y0,y1)
// with corners rounded to radius r (all in subpixel units).
func roundRect(x0, y0, x1, y1, r int) func(x, y int) bool {
	return func(x, y int) bool {
		if x < x0 || x >= x1 || y < y0 || y >= y1 {
			return false
		}
		cx, cy := x, y
		switch {
		case x < x0+r:
			cx = x0 + r
		case x >= x1-r:
			cx = x1 - r
		}
		switch {
		case y < y0+r:
			cy = y0 + r
		case y >= y1-r:
			cy = y1 - r
		}
		dx, dy := x-cx, y-cy
		return dx*dx+dy*dy <= r*r
	}
}

// segment reports whether (x, y) is within half of the segment a–b.
func segment(ax, ay, bx, by, half int) func(x, y int) bool {
	vx, vy := int64(bx-ax), int64(by-ay)
	l2 := vx*vx + vy*vy
	h2 := int64(half) * int64(half)
	return func(x, y int) bool {
		wx, wy := int64(x-ax), int64(y-ay)
		t := wx*vx + wy*vy
		switch {
		case t <= 0:
			return wx*wx+wy*wy <= h2
		case t >= l2:
			ex, ey := int64(x-bx), int64(y-by)
			return ex*ex+ey*ey <= h2
		}
		cr := wx*vy - wy*vx
		return cr*cr <= h2*l2
	}
}

// triangle reports whether (x, y) lies inside the triangle a, b, c.
func triangle(ax, ay, bx, by, cx, cy int) func(x, y int) bool {
	side := func(px, py, qx, qy, x, y int) int64 {
		return int64(qx-px)*int64(y-py) - int64(qy-py)*int64(x-px)
	}
	return func(x, y int) bool {
		d1 := side(ax, ay, bx, by, x, y)
		d2 := side(bx, by, cx, cy, x, y)
		d3 := side(cx, cy, ax, ay, x, y)
		neg := d1 < 0 || d2 < 0 || d3 < 0
		pos := d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

// either is the union of two shapes.
func either(a, b func(x, y int) bool) func(x, y int) bool {
	return func(x, y int) bool { return a(x, y) || b(x, y) }
}

// stroke is the envelope's line width in pixels.
func (c *canvas) stroke() int { return max(1, (c.n+8)/16) }

// envelope draws the letter: a rounded body with a V-shaped flap.
func (c *canvas) envelope(p palette) {
	n, w := c.n, c.stroke()
	m := max(1, n/16)
	x0, x1 := m, n-m
	h := ((x1-x0)*7 + 5) / 10
	// A little below the centre: the badge covers the top right corner.
	y0 := (n-h+1)/2 + n/16
	y1 := y0 + h
	r := w * sub
	c.fill(p.line, roundRect(x0*sub, y0*sub, x1*sub, y1*sub, r))
	c.fill(p.paper, roundRect((x0+w)*sub, (y0+w)*sub, (x1-w)*sub, (y1-w)*sub, max(r-w*sub, sub/2)))
	// The flap: from the top corners (inside the border) to a point a
	// little below the middle.
	half := w * sub / 2
	ax, ay := x0*sub+w*sub, y0*sub+w*sub
	bx, by := (x0+x1)*sub/2, y0*sub+h*sub*3/5
	cx := x1*sub - w*sub
	c.fill(p.line, either(segment(ax, ay, bx, by, half), segment(bx, by, cx, ay, half)))
}

// fontChoice is a font drawn at an integer scale.
type fontChoice struct {
	f *bitmapFont
	k int
}

// badgeFonts lists the candidates, tallest first.
var badgeFonts = []fontChoice{
	{&font5x7, 3}, {&font5x7, 2}, {&font3x5, 2}, {&font5x7, 1}, {&font3x5, 1},
}

// badge draws text in a red round badge (a pill when wider than tall) in
// the top-right corner, with a ring that sets it off from the envelope.
func (c *canvas) badge(p palette, text string) {
	n := c.n
	ring := max(1, n/24)
	maxH := (n*9 + 8) / 16 // badge height limit
	inner := maxH - 2*ring
	fc := badgeFonts[len(badgeFonts)-1]
	for _, cand := range badgeFonts {
		gh := cand.f.h * cand.k
		padY := (inner - gh) / 2
		tw := cand.f.textWidth(text, cand.k)
		if padY >= 1 && tw+2*ring+2*max(1, padY) <= n {
			fc = cand
			break
		}
	}
	gh := fc.f.h * fc.k
	padY := max(1, (inner-gh)/2)
	bh := gh + 2*padY + 2*ring
	tw := fc.f.textWidth(text, fc.k)
	bw := min(n, max(bh, tw+2*ring+2*padY))
	bx0, by0 := n-bw, 0
	c.fill(p.ring, roundRect(bx0*sub, by0*sub, n*sub, bh*sub, bh*sub/2))
	c.fill(p.badge, roundRect((bx0+ring)*sub, (by0+ring)*sub, (n-ring)*sub, (bh-ring)*sub, (bh-2*ring)*sub/2))
	tx := bx0 + (bw-tw+1)/2
	ty := by0 + ring + padY
	for _, r := range text {
		for j, row := range fc.f.bitmap(r, fc.k) {
			for i, lit := range row {
				if lit {
					c.rect(p.digits, tx+i, ty+j, tx+i+1, ty+j+1)
				}
			}
		}
		tx += (fc.f.w + 1) * fc.k
	}
}

// warning draws an amber triangle with an exclamation mark in the
// bottom-right corner.
func (c *canvas) warning(p palette) {
	n := c.n
	ring := max(1, n/24)
	bar := max(1, (n+8)/24) // width of the "!"
	th := (n*9 + 8) / 16    // triangle height
	tw := th + th/6
	if (tw-bar)%2 != 0 {
		tw++
	}
	x0, y0 := n-tw, n-th
	apx := (x0*2 + tw) * sub / 2
	c.fill(p.ring, triangle(apx, y0*sub, n*sub, n*sub, x0*sub, n*sub))
	r := ring * sub
	c.fill(p.warn, triangle(apx, y0*sub+2*r+r/2, n*sub-r*7/4, n*sub-r, x0*sub+r*7/4, n*sub-r))
	// The mark: a bar and a dot, centred on the apex.
	mx := x0 + (tw-bar)/2
	inner := th - 3*ring // rows between the apex inset and the base ring
	top := y0 + 2*ring + inner*2/5
	dot := n - ring - bar - max(0, (inner/8))
	barEnd := dot - max(1, bar/2+inner/10)
	c.rect(p.warnMark, mx, top, mx+bar, barEnd)
	c.rect(p.warnMark, mx, dot, mx+bar, dot+bar)
}

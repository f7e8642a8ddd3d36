package icons

import (
	"bytes"
	"encoding/binary"
	"image/png"
)

// ICOSizes are the images an ICO holds, so Windows picks a drawn one at
// 100 %, 125 %, 150 %, 200 % and 300 % scaling.
var ICOSizes = []int{16, 20, 24, 32, 48}

// PNG returns s drawn at size as a PNG. The bytes are cached and shared:
// callers must not modify them.
func PNG(s State, size int) []byte {
	size = min(max(size, MinSize), MaxSize)
	s = s.Normal()
	return cached(cacheKey{s, size, formatPNG}, func() []byte { return encodePNG(s, size) })
}

func encodePNG(s State, size int) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, Render(s, size)); err != nil {
		// Encoding an in-memory RGBA image into a bytes.Buffer cannot fail.
		panic("icons: png: " + err.Error())
	}
	return b.Bytes()
}

// ICO returns s as a Windows icon holding one PNG per size in ICOSizes
// (PNG-compressed entries, supported since Windows Vista). The bytes are
// cached and shared: callers must not modify them.
func ICO(s State) []byte {
	s = s.Normal()
	return cached(cacheKey{s, 0, formatICO}, func() []byte {
		imgs := make([][]byte, len(ICOSizes))
		for i, n := range ICOSizes {
			imgs[i] = PNG(s, n)
		}
		return encodeICO(ICOSizes, imgs)
	})
}

// encodeICO writes an ICONDIR, one ICONDIRENTRY per image and the images.
func encodeICO(sizes []int, imgs [][]byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, 0)) // reserved
	b.Write(le.AppendUint16(nil, 1)) // type: icon
	b.Write(le.AppendUint16(nil, uint16(len(imgs))))
	off := 6 + 16*len(imgs)
	for i, img := range imgs {
		dim := byte(sizes[i]) // 0 means 256
		b.Write([]byte{dim, dim, 0, 0})
		b.Write(le.AppendUint16(nil, 1))  // colour planes
		b.Write(le.AppendUint16(nil, 32)) // bits per pixel
		b.Write(le.AppendUint32(nil, uint32(len(img))))
		b.Write(le.AppendUint32(nil, uint32(off)))
		off += len(img)
	}
	for _, img := range imgs {
		b.Write(img)
	}
	return b.Bytes()
}

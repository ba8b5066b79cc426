package evidence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
)

// jpegQuality keeps a photographed certificate's small print legible while
// the stored copy stays near the size of what a phone saves.
const jpegQuality = 90

// redrawPNG checks a PNG and returns it drawn again from its pixels alone.
func redrawPNG(data []byte) ([]byte, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, refuse(msgDamagedImage)
	}
	if tooManyPixels(cfg) {
		return nil, refuse(msgPixels)
	}
	end, err := pngEnd(data)
	if err != nil {
		return nil, refuse(msgDamagedImage)
	}
	if end != len(data) {
		// No program writes anything after IEND; something put there is
		// meant for a different reader.
		return nil, refuse(msgHidden, "data after the end of the image")
	}
	release := acquireDecoder()
	defer release()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, refuse(msgDamagedImage)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return out.Bytes(), nil
}

// redrawJPEG checks a JPEG and returns it drawn again from its pixels alone,
// turned the way its camera recorded, so dropping that record (with the rest
// of the metadata) does not leave a certificate on its side.
func redrawJPEG(data []byte) ([]byte, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, refuse(msgDamagedImage)
	}
	if tooManyPixels(cfg) {
		return nil, refuse(msgPixels)
	}
	// Data after the end of the image is allowed: phones append the video
	// of a "motion photo" there. It is dropped with everything else that
	// is not pixels; an archive or a page hidden there was refused already.
	orientation, err := walkJPEG(data)
	switch {
	case errors.Is(err, errTooManyScans):
		return nil, refuse(msgComplex)
	case err != nil:
		return nil, refuse(msgDamagedImage)
	}
	release := acquireDecoder()
	defer release()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, refuse(msgDamagedImage)
	}
	img = orient(img, orientation)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return out.Bytes(), nil
}

// tooManyPixels is decided from the header alone, before a decoder
// allocates the picture it declares.
func tooManyPixels(cfg image.Config) bool {
	return cfg.Width <= 0 || cfg.Height <= 0 || uint64(cfg.Width)*uint64(cfg.Height) > MaxPixels
}

// decoders bounds how many images are redrawn at once. Within the pixel
// limit one redraw can hold several hundred megabytes (a 50-megapixel
// progressive JPEG keeps a 32-bit coefficient per pixel and component while
// it decodes); a burst of uploads then waits its turn instead of taking the
// portal down with it.
var decoders = make(chan struct{}, 2)

func acquireDecoder() (release func()) {
	decoders <- struct{}{}
	return func() { <-decoders }
}

// maxJPEGScans bounds a JPEG's scans. Go's decoder visits every block of
// the picture in every scan, so a few kilobytes of near-empty progressive
// scans cost minutes; encoders write about ten.
const maxJPEGScans = 100

var (
	errTruncated    = errors.New("image ends early")
	errTooManyScans = errors.New("too many scans")
)

// pngEnd returns the offset just past the IEND chunk.
func pngEnd(data []byte) (int, error) {
	i := len(pngSignature)
	for {
		if len(data)-i < 12 {
			return 0, errTruncated
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > 1<<31-1 || uint64(len(data)-i-12) < uint64(n) {
			return 0, errTruncated
		}
		typ := string(data[i+4 : i+8])
		i += 12 + int(n)
		if typ == "IEND" {
			return i, nil
		}
	}
}

// walkJPEG walks a JPEG's segments to its end-of-image marker (a file
// without one was cut short), counting its scans, and returns the EXIF
// orientation, 1 when none.
func walkJPEG(data []byte) (int, error) {
	orientation, scans := 1, 0
	i := 2
	for {
		if i >= len(data) || data[i] != 0xFF {
			return 0, errTruncated
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return 0, errTruncated
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // end of image
			return orientation, nil
		case m >= 0xD0 && m <= 0xD7, m == 0x01:
			continue
		case m == 0x00, m == 0xD8:
			return 0, errTruncated
		}
		if len(data)-i < 2 {
			return 0, errTruncated
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || len(data)-i < n {
			return 0, errTruncated
		}
		seg := data[i+2 : i+n]
		i += n
		if m == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) && orientation == 1 {
			orientation = exifOrientation(seg[6:])
		}
		if m == 0xDA { // start of scan: entropy-coded data up to the next marker
			if scans++; scans > maxJPEGScans {
				return 0, errTooManyScans
			}
			for {
				j := bytes.IndexByte(data[i:], 0xFF)
				if j < 0 || i+j+1 >= len(data) {
					return 0, errTruncated
				}
				i += j
				if next := data[i+1]; next == 0x00 || next >= 0xD0 && next <= 0xD7 {
					i += 2
					continue
				}
				break
			}
		}
	}
}

// exifOrientation reads tag 0x0112 from the first image directory of an
// EXIF block (a TIFF structure); anything unreadable means "as stored".
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := order.Uint32(tiff[4:])
	if uint64(ifd)+2 > uint64(len(tiff)) {
		return 1
	}
	count := int(order.Uint16(tiff[ifd:]))
	entries := tiff[ifd+2:]
	for e := 0; e < count && len(entries) >= 12*(e+1); e++ {
		entry := entries[12*e : 12*(e+1)]
		if order.Uint16(entry) == 0x0112 && order.Uint16(entry[2:]) == 3 {
			if v := int(order.Uint16(entry[8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient turns and flips img as EXIF orientation o says it should be shown.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	var src *image.RGBA
	var srcPix []byte
	var stride, bpp int
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var dst image.Image
	var dstPix []byte
	var dstStride int
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	if g, ok := img.(*image.Gray); ok {
		srcPix, stride, bpp = g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], g.Stride, 1
		d := image.NewGray(image.Rect(0, 0, dw, dh))
		dst, dstPix, dstStride = d, d.Pix, d.Stride
	} else {
		src = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(src, src.Rect, img, b.Min, draw.Src)
		srcPix, stride, bpp = src.Pix, src.Stride, 4
		d := image.NewRGBA(image.Rect(0, 0, dw, dh))
		dst, dstPix, dstStride = d, d.Pix, d.Stride
	}
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			copy(dstPix[y*dstStride+x*bpp:y*dstStride+(x+1)*bpp], srcPix[sy*stride+sx*bpp:])
		}
	}
	return dst
}

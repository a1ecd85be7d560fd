#!/bin/sh
# Regenerates the two image fixtures Go cannot encode (used by folder_test.go):
#   cmyk.jpg  8x6 CMYK JPEG, left half red, right half blue (ImageMagick)
#   tiny.webp 5x3 lossless WebP, pixel (x, y) = (40x, 80y, 200) (Pillow)
set -e
cd "$(dirname "$0")"
convert -size 4x6 xc:red -size 4x6 xc:blue +append -colorspace CMYK -quality 100 cmyk.jpg
/usr/bin/python3 -c '
from PIL import Image
im = Image.new("RGB", (5, 3))
for y in range(3):
    for x in range(5):
        im.putpixel((x, y), (40 * x, 80 * y, 200))
im.save("tiny.webp", lossless=True)
'

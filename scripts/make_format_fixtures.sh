#!/usr/bin/env bash
# Writes tests/fixtures/formats/: small photographs and labels encoded by other software (ImageMagick, netpbm,
# libtiff's tools), in the formats and variants the public data sets and cameras use, so the readers are tested
# on files the project's own writers did not make. The files are committed; this script documents how they were
# made (Debian 12: apt-get install imagemagick netpbm libtiff-tools) and is not run by the build or the tests.
set -euo pipefail
out="$(dirname "$0")/../tests/fixtures/formats"
mkdir -p "$out"
cd "$out"
rm -f ./*
# The reference photograph (48 x 40, wider than tall, so a transposed read fails) and its vessel label: a
# reddish-brown gradient, a bright disc, and dark lines where the label is white.
lines=(-draw "line 3,35 44,6" -draw "line 6,4 40,38" -draw "line 24,0 24,39")
convert -size 40x48 gradient:'#c06030-#502010' -rotate 90 -fill '#f0c080' -draw "circle 36,28 36,22" \
  -stroke '#301008' -strokewidth 2 "${lines[@]}" -depth 8 -type TrueColor PNG24:photo.png
convert -size 48x40 xc:black -stroke white -strokewidth 2 "${lines[@]}" -threshold 50% -depth 8 -type Grayscale \
  PNG8:label-ref.png
convert label-ref.png -depth 8 -type Grayscale PNG:label.png
convert -size 48x40 xc:black -fill white -draw "ellipse 24,20 22,19 0,360" -threshold 50% -depth 8 \
  -type Grayscale PNG:mask.png

# STARE: PPM as unpacked from its .ppm.gz files, a comment line in the header (as XV writes them).
convert photo.png -depth 8 ppm:- | pnmtopnm -plain | pnmtopnm > photo-plain.tmp  # normalise through netpbm
{ printf 'P6\n# CREATOR: XV Version 3.10a  Rev: 12/29/94\n48 40\n255\n'; tail -c $((48 * 40 * 3)) photo-plain.tmp; } > stare-photo.ppm
rm photo-plain.tmp
convert label.png -depth 8 -type TrueColor ppm:stare-label.ah.ppm
# CHASE_DB1: JPEG photograph (4:2:0, quality 95), 1-bit grayscale PNG labels.
convert photo.png -quality 95 -sampling-factor 2x2 chase-photo.jpg
convert label.png -type Bilevel -depth 1 PNG:chase-label-1bit.png
# HRF: progressive JPEG photograph, LZW grayscale label, RGB deflate mask.
convert photo.png -quality 95 -interlace Plane hrf-photo-progressive.jpg
convert label.png -depth 8 -type Grayscale -compress LZW hrf-label-lzw.tif
convert mask.png -depth 8 -type TrueColor -compress Zip hrf-mask-rgb-deflate.tif
# Other cameras and tools: 16-bit PNG and TIFF, palette PNG, grayscale and CMYK JPEG, tiled and planar TIFF,
# a bilevel CCITT G4 TIFF label, a GIF mask (as DRIVE's), a 16-bit PPM.
convert photo.png -depth 16 PNG48:photo-16bit.png
convert photo.png -depth 16 -compress None photo-16bit.tif
convert photo.png +dither -type Palette PNG8:photo-palette.png
convert photo.png -colorspace Gray -quality 95 photo-gray.jpg
convert photo.png -colorspace CMYK -quality 95 photo-cmyk.jpg
convert photo.png -define tiff:tile-geometry=16x16 -compress LZW photo-tiled.tif
convert photo.png -interlace Plane -compress None photo-planar.tif
convert label.png -type Bilevel -compress Group4 label-g4.tif
convert mask.png -type Bilevel mask.gif
convert photo.png -depth 16 ppm:photo-16bit.ppm
rm label-ref.png
ls -l

package imagever

import (
	"strconv"
	"strings"
)

// Tag returns the major and minor version of an image's tag; ok is false when the image has no
// tag or the tag is not a version.
func Tag(image string) (major, minor int, ok bool) {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return 0, 0, false
	}
	tag := strings.TrimPrefix(image[i+1:], "v")
	majorStr, rest, _ := strings.Cut(tag, ".")
	minorStr, _, _ := strings.Cut(rest, ".")
	maj, err := strconv.Atoi(majorStr)
	if err != nil {
		return 0, 0, false
	}
	// "v8" or "v8.x-custom": the minor version is 0 unless it is a number.
	mi, err := strconv.Atoi(strings.TrimFunc(minorStr, func(r rune) bool { return r < '0' || r > '9' }))
	if err != nil {
		mi = 0
	}
	return maj, mi, true
}

// AtLeast reports whether the image's version is major.minor or later; a tag that is not a
// version counts as recent.
func AtLeast(image string, major, minor int) bool {
	maj, mi, ok := Tag(image)
	if !ok {
		return true
	}
	return maj > major || (maj == major && mi >= minor)
}

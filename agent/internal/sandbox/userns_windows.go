package sandbox

import "io/fs"

func fileOwnerIsRoot(fs.FileInfo) bool { return false }

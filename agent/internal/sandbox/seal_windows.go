package sandbox

// SealInheritedFDs does nothing on Windows, where handles are not
// inherited unless asked for.
func SealInheritedFDs() {}

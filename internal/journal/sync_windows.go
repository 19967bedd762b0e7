package journal

// Windows cannot fsync a directory handle; NTFS journals the rename itself.
func isUnsupportedSync(error) bool { return true }

// Package file holds the fault kinds that change files: file.corrupt,
// file.delete, file.hold, file.append, file.chmod and file.mutate. Every
// path is confined to the file roots (and kept out of the state
// directory), every receipt holds hashes and never contents beyond what
// the parameters say, every kind reports drift (fault.Statuser), and the
// resource "file:<path>" keeps two faults off one file.
//
// file.delete and file.hold rename the file aside, never copy it: into
// StateDir/data/<fault id>/original when that is on the same filesystem,
// to a hidden ".bulwark-aside-<fault id>" next to the file otherwise. The
// moved file keeps its own mode (it is the same inode); the state
// directory is 0700. Recovery renames it back with RENAME_NOREPLACE, so a
// new file created at the path meanwhile is never overwritten: the fault
// is stuck until a person removes the new file or the kept original.
// file.hold puts the file back at --until through the guard's tending
// (hostmgr.Tend), or when the fault ends; it holds a file that exists now
// (holding back a file that has not arrived yet is future work).
//
// file.append recovers by truncating to the original length only while
// the original bytes still hash to the original and the tail is exactly
// the appended bytes (regenerated from the receipt, not stored).
// file.chmod restores the mode and owner only while they are still the
// faulted ones. file.mutate edits one record's fields in place, byte for
// byte (quoting and line ends kept), records each edit's compensating undo
// and the file's hash before and after, and restores by the undo only
// while the whole file still hashes to the faulted bytes. The kinds without
// a backup keep a 0600 claim file in the state directory: deleting it by
// hand resolves a conflict in favour of what a person put in the file.
//
// file.corrupt flips, zeroes or truncates bytes of one regular file inside
// the configured file roots (DESIGN §6.7), in place (same inode). Before the
// change it keeps a copy of the original under the host manager's state
// directory (0600, fsynced) and records the SHA-256 of both the original and
// the faulted bytes in the receipt; the receipt never holds file contents.
//
// Recovery is compare-and-swap (DESIGN §6.2): the original bytes are written
// back only while the file still holds exactly the faulted bytes. A file that
// someone else changed meanwhile is left as they wrote it, the backup is kept,
// and the fault stays stuck until a person either restores the original from
// the backup (the next retry then ends the fault) or deletes the backup to
// keep the new contents.
//
// A marker file next to the backup brackets every in-place write, so a crash
// in the middle of writing is recognised as bulwark's own partial write and
// not mistaken for someone else's change.
package file

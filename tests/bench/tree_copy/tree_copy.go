// tree_copy (Go): copies the tree SRC to DST (which must not exist) file by file, as a Go program that
// copies a directory does: a directory walk, os.Mkdir, os.Symlink, and for each regular file os.Open,
// os.OpenFile(O_WRONLY|O_CREATE|O_EXCL) and io.Copy. io.Copy of one *os.File to another is
// os.File.ReadFrom, which calls copy_file_range(2) (falling back to read/write where the kernel or the
// filesystem refuses it), so inside a fastfs mount every file becomes copy requests.
//
// A benchmark tool (tests/bench/copy_bench.sh, perfile_bench.sh), built by lib.sh's
// bench_build_tree_copy when a Go toolchain is installed; tree_copy.c does the same without one.
//
//	tree_copy SRC DST
package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	src, dst := os.Args[1], os.Args[2]
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		panic(err)
	}
}

package all

import (
	_ "github.com/bulwarkhq/bulwark/internal/fault/cpu"
	_ "github.com/bulwarkhq/bulwark/internal/fault/dep"
	_ "github.com/bulwarkhq/bulwark/internal/fault/disk"
	_ "github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	_ "github.com/bulwarkhq/bulwark/internal/fault/file"
	_ "github.com/bulwarkhq/bulwark/internal/fault/mem"
	_ "github.com/bulwarkhq/bulwark/internal/fault/netfault"
	_ "github.com/bulwarkhq/bulwark/internal/fault/process"
	_ "github.com/bulwarkhq/bulwark/internal/fault/script"
	_ "github.com/bulwarkhq/bulwark/internal/fault/timeskew"
)

package all

import ()

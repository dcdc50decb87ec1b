"""``python -m course_utils.grading ...`` = ``course-grade ...``."""

import sys

from .cli import main

sys.exit(main())

"""The files in this folder are instructor-only check files for ``course-grade --extra-checks``,
not test modules: importing one registers its questions, so pytest must not collect them (its
doctest collection imports every ``.py``)."""

collect_ignore = ["set01_hidden.py"]

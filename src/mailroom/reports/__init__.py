"""Reports (R9 monthly bulletin, R10 annual summary): pure building from records
(build.py) into the values of values.py, then renderers, one per format."""

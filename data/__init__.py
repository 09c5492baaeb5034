"""Package data, no code: the city model (``city/``) and the committed sample day (``samples/``)."""

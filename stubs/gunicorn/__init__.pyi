# gunicorn ships without type information; these stubs type the little of it tongban uses.

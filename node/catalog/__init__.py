"""The center's service catalog: departments, windows, staff records and matters."""

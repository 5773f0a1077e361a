"""The working-day calendar: national schedules per year (published, imported, or the package's
data), local overrides, deadlines, and the province's calendar.publish."""

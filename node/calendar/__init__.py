"""The working-day calendar: national holidays (chinese_calendar), local overrides, deadlines."""

"""Statistics: the national data standard, the de-identified analytic store, dashboards, disclosure control,
differential privacy, synthetic microdata, open-data releases and the annual data report."""

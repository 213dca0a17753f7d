"""Cross-jurisdiction information sharing: agencies, their records, data-sharing agreements, linkage and hits."""

"""Reports and documents: the weekly report, the monthly bulletin, and the PDFs of a
clue's documents (assignment sheet, reminder letter, supervision order)."""

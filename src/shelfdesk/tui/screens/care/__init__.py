"""The Care screen (``6``): after-sales cases, what is due first, and one case on one timeline."""

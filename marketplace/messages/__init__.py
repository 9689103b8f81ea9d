"""Private messages between a lab and one bidder, a thread per bid."""

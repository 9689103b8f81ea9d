"""A lab's NDA, versioned, that vendors accept before a confidential job's brief opens."""

"""How much of a lab's labeling spend sits under any one owner or investor, the lab's cap on it, and new common
owners of its vendors."""

"""Reusable ComponentResources. They take typed args and return outputs; they never read stack config."""

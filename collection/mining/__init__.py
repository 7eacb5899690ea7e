"""Mining GitHub and Stack Overflow the study's way (pure logic: no Django, no project imports)."""

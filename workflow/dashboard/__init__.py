"""`pal dashboard --out DIR`: a static site (HTML and one stylesheet, no JavaScript) of the
agreements, their deadlines and the mail, read through the CLI's own views (`site.build_site`)."""

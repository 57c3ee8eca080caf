{
  "targets": [
    {
      "target_name": "lifeline_native",
      "sources": ["native/xattr.c", "native/memory.c"]
    }
  ]
}

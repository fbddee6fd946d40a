{
  "targets": [
    {
      "target_name": "peftjs_native",
      "sources": ["<!@(node -p \"require('fs').readdirSync('src/native').filter(f => f.endsWith('.cc')).sort().map(f => 'src/native/' + f).join(' ')\")"],
      "include_dirs": ["src/native"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "<!(node scripts/arch-flag.mjs)", "-fopenmp", "-fno-math-errno", "-Wall", "-Wno-unused-function"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}

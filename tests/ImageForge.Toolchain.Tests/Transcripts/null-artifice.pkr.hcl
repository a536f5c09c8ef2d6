variable "secret" {
  type      = string
  sensitive = true
}
variable "out" { type = string }
source "null" "local" {
  communicator = "none"
}
build {
  sources = ["source.null.local"]
  provisioner "shell-local" {
    environment_vars = ["SECRET=${var.secret}", "OUT=${var.out}"]
    inline = ["echo hello, world", "mkdir -p $OUT && echo data > $OUT/a.txt", "echo done $SECRET", "exit 3"]
  }
  post-processors {
    post-processor "artifice" {
      files = ["${var.out}/a.txt"]
    }
    post-processor "manifest" {
      output = "${var.out}/manifest.json"
      strip_path = false
      custom_data = { version = "1" }
    }
  }
}

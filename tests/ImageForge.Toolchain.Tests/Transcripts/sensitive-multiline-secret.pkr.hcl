variable "token" {
  type      = string
  sensitive = true
}
source "null" "local" {
  communicator = "none"
}
build {
  sources = ["source.null.local"]
  provisioner "shell-local" {
    environment_vars = ["TOKEN=${var.token}"]
    inline = ["echo \"token is $TOKEN\"", "echo \"$TOKEN\" >&2", "printf 'no newline %s' \"$TOKEN\""]
  }
}

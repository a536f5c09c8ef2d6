variable "out" { type = string }
source "null" "local" {
  communicator = "none"
  no_such_option = true
}
build {
  sources = ["source.null.local"]
}

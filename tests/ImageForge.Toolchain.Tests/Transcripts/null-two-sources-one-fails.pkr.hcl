variable "out" { type = string }
source "null" "good" {
  communicator = "none"
}
source "null" "bad" {
  communicator = "none"
}
build {
  sources = ["source.null.good", "source.null.bad"]
  provisioner "shell-local" {
    environment_vars = ["OUT=${var.out}", "NAME=${source.name}"]
    inline = ["echo building $NAME, with a comma", "mkdir -p $OUT && echo $NAME > $OUT/$NAME.txt", "if [ $NAME = bad ]; then echo 'boom: disk full' >&2; exit 7; fi"]
  }
  post-processor "manifest" {
    output = "${var.out}/manifest.json"
    strip_path = false
    custom_data = { version = "1" }
  }
}

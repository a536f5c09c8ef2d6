# ImageForge AWS target, build: native: Packer's amazon-ebs launches the source AMI, the local target's hardening,
# inventory and clean scripts and the shared OpenSCAP scan run inside the instance over SSH, their results are
# downloaded into output_dir, and the instance becomes an AMI in the home region, copied to ami_regions.
#
# Valid on Packer 1.6.6 and on current Packer. No `packer {}` block here: the C# side adds required_plugins only
# where the installed Packer supports it. See docs/aws.md.

locals {
  local_scripts  = "${path.root}/../local/scripts"
  common_scripts = "${path.root}/../common/scripts"

  # Everything ImageForge puts on the instance lives below /run, a tmpfs on a booted system: none of it reaches the
  # AMI, whatever fails.
  remote      = "/run/imageforge"
  remote_out  = "/run/imageforge/out"
  hardening   = "/run/imageforge/hardening/profile/${basename(var.hardening_dir)}"
  datastream  = "/run/imageforge/scap/datastream.xml"
  tailoring   = var.scap_tailoring == "" ? "" : "/run/imageforge/scap/tailoring.xml"
  on_endpoint = var.custom_endpoint_ec2 != ""

  # The stage scripts run as root through sudo, with the variables in their environment only.
  execute_command = "{{ .Vars }} exec sudo -n -E /bin/bash {{ .Path }}"

  # The local target's stage scripts, on the running system: its root is /, its scratch below /run.
  stage_env = [
    "IMAGEFORGE_ROOT=/",
    "IMAGEFORGE_WORK_DIR=/run/imageforge/work",
    "IMAGEFORGE_OUTPUT_DIR=/run/imageforge/out",
    "IMAGEFORGE_BUILD_ID=${var.build_id}",
    "IMAGEFORGE_IMAGE_NAME=${var.image_name}",
  ]

  tags = {
    Name                   = var.ami_name
    "imageforge:image"     = var.image_name
    "imageforge:build"     = var.build_id
    "imageforge:build-via" = "packer-amazon-ebs"
  }
}

source "amazon-ebs" "aws" {
  region        = var.region
  ami_name      = var.ami_name
  instance_type = var.instance_type
  subnet_id     = var.subnet_id == "" ? null : var.subnet_id

  # An AMI id, or the most recent AMI of the owner matching the name filter (an empty filter is ignored).
  source_ami = var.source_ami == "" ? null : var.source_ami
  source_ami_filter {
    filters = var.source_ami != "" ? {} : {
      name                = var.source_ami_name
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = var.source_ami == "" ? [var.source_ami_owner] : []
    most_recent = true
  }

  ami_regions        = var.ami_regions
  ami_users          = var.ami_users
  encrypt_boot       = var.encrypt
  kms_key_id         = var.encrypt && var.kms_key_id != "" ? var.kms_key_id : null
  region_kms_key_ids = var.encrypt ? var.region_kms_key_ids : {}

  tags          = local.tags
  snapshot_tags = local.tags

  access_key = var.access_key == "" ? null : var.access_key
  secret_key = var.secret_key == "" ? null : var.secret_key
  token      = var.token == "" ? null : var.token

  custom_endpoint_ec2        = local.on_endpoint ? var.custom_endpoint_ec2 : null
  skip_credential_validation = local.on_endpoint
  skip_metadata_api_check    = local.on_endpoint

  communicator = "ssh"
  ssh_username = var.ssh_username
  ssh_port     = var.ssh_port
  ssh_timeout  = "10m"
}

build {
  sources = ["source.amazon-ebs.aws"]

  # The remote layout (owned by the SSH user so that file uploads can write into it).
  provisioner "shell" {
    inline = [
      "set -e",
      "sudo -n install -d -m 0700 -o \"$(id -u)\" -g \"$(id -g)\" ${local.remote}",
      "install -d ${local.remote}/scripts ${local.remote}/common ${local.remote}/hardening/profile ${local.remote}/hardening/lib ${local.remote}/scap",
    ]
  }

  provisioner "file" {
    source      = "${local.local_scripts}/"
    destination = "${local.remote}/scripts"
  }

  provisioner "file" {
    source      = "${local.common_scripts}/"
    destination = "${local.remote}/common"
  }

  provisioner "file" {
    source      = var.hardening_dir
    destination = "${local.remote}/hardening/profile"
  }

  provisioner "file" {
    source      = "${dirname(dirname(var.hardening_dir))}/lib/"
    destination = "${local.remote}/hardening/lib"
  }

  provisioner "file" {
    source      = var.scap_datastream
    destination = local.datastream
  }

  # Without a tailoring file this uploads a placeholder, which the scans are not given.
  provisioner "file" {
    source      = var.scap_tailoring == "" ? "${path.root}/no-tailoring.xml" : var.scap_tailoring
    destination = "${local.remote}/scap/tailoring.xml"
  }

  # 2a. OpenSCAP scan of the instance as launched -> compliance-before-*.
  provisioner "shell" {
    execute_command = local.execute_command
    inline          = ["exec /bin/bash ${local.remote}/common/oscap-scan.sh before ${local.datastream} ${var.scap_profile} ${local.remote_out} ${local.tailoring}"]
  }

  # 2. Hardening rules (apply, then audit) -> hardening-report.tsv.
  provisioner "shell" {
    execute_command  = local.execute_command
    environment_vars = concat(local.stage_env, ["IMAGEFORGE_HARDENING_DIR=${local.hardening}"])
    inline           = ["exec /bin/bash ${local.remote}/scripts/harden.sh"]
  }

  # 3. Package inventory -> packages.tsv.
  provisioner "shell" {
    execute_command  = local.execute_command
    environment_vars = local.stage_env
    inline           = ["exec /bin/bash ${local.remote}/scripts/inventory.sh"]
  }

  # Clean: what must not ship leaves the system (apt lists, logs, SSH host keys, machine-id...).
  provisioner "shell" {
    execute_command  = local.execute_command
    environment_vars = local.stage_env
    inline           = ["exec /bin/bash ${local.remote}/scripts/clean.sh"]
  }

  # 2b. OpenSCAP scan of the hardened, cleaned system -> compliance-after-*.
  provisioner "shell" {
    execute_command = local.execute_command
    inline          = ["exec /bin/bash ${local.remote}/common/oscap-scan.sh after ${local.datastream} ${var.scap_profile} ${local.remote_out} ${local.tailoring}"]
  }

  # The evidence, readable by the SSH user, downloaded into output_dir.
  provisioner "shell" {
    execute_command = local.execute_command
    inline          = ["chmod 0755 ${local.remote_out} && chmod 0644 ${local.remote_out}/*"]
  }

  # (Packer 1.6.6 ignores a dynamic provisioner block: one download each. The builder's list is AwsNativeBuilder.Evidence.)
  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/packages.tsv"
    destination = "${var.output_dir}/packages.tsv"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/hardening-report.tsv"
    destination = "${var.output_dir}/hardening-report.tsv"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/compliance-before-results.xml"
    destination = "${var.output_dir}/compliance-before-results.xml"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/compliance-before-report.html"
    destination = "${var.output_dir}/compliance-before-report.html"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/compliance-after-results.xml"
    destination = "${var.output_dir}/compliance-after-results.xml"
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.remote_out}/compliance-after-report.html"
    destination = "${var.output_dir}/compliance-after-report.html"
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/manifest.json"
    strip_path = false
    custom_data = {
      build_id   = var.build_id
      image_name = var.image_name
    }
  }
}

# ImageForge gcp target, build: native (docs/gcp.md): Packer's googlecompute builder starts a VM from the base image
# (family or name, in source_image_project_id), runs the local target's scan, hardening and inventory scripts inside
# it over SSH, downloads their results as the version's evidence and creates the image, in no family (promotion puts
# it into the channel's family, as for imported images), labelled as the import labels it
# (its build instead of its input fingerprint, which a native build does not have).
#
# Valid on Packer 1.6.6 (googlecompute built in). No `packer {}` block here: on Packer 1.7 and later the C# side
# writes plugins.pkr.hcl (required_plugins googlecompute) next to it, as for the local template.

locals {
  vm_dir = "/tmp/imageforge"
  # The scripts are reused where they live, not copied: the VM stages, and the local target's package inventory.
  common_scripts   = "${var.templates_root}/common/scripts"
  inventory_script = "${var.templates_root}/local/scripts/collect-packages-dpkg.sh"
}

source "googlecompute" "image" {
  project_id              = var.project_id
  account_file            = var.account_file
  zone                    = var.zone
  machine_type            = var.machine_type
  network                 = var.network
  source_image            = var.source_image
  source_image_family     = var.source_image_family
  source_image_project_id = [var.source_image_project_id]
  ssh_username            = var.ssh_username

  image_name              = var.gce_image_name
  image_description       = "${var.image_name} ${var.version} (ImageForge build ${var.build_id})"
  image_storage_locations = [var.storage_location]
  image_labels = {
    "managed-by"  = "imageforge"
    "image"       = var.image_name
    "version"     = var.version_label
    "build"       = var.build_label
  }
}

build {
  sources = ["source.googlecompute.image"]

  provisioner "shell" {
    inline = ["rm -rf ${local.vm_dir} && mkdir -p ${local.vm_dir}/common ${local.vm_dir}/hardening ${local.vm_dir}/scap"]
  }

  provisioner "file" {
    source      = "${local.common_scripts}/"
    destination = "${local.vm_dir}/common"
  }

  provisioner "file" {
    source      = "${var.hardening_root}/"
    destination = "${local.vm_dir}/hardening"
  }

  provisioner "file" {
    source      = local.inventory_script
    destination = "${local.vm_dir}/collect-packages-dpkg.sh"
  }

  provisioner "file" {
    source      = var.scap_datastream
    destination = "${local.vm_dir}/scap/datastream.xml"
  }

  provisioner "file" {
    source      = var.scap_tailoring
    destination = "${local.vm_dir}/scap/tailoring.xml"
  }

  # Scan before, harden, scan after, inventory: the local target's scripts, as root on the running system.
  provisioner "shell" {
    inline = ["sudo bash ${local.vm_dir}/common/vm-stages.sh ${local.vm_dir} ${var.hardening_profile} ${var.scap_profile}"]
  }

  provisioner "file" {
    direction   = "download"
    source      = "${local.vm_dir}/out/"
    destination = "${var.output_dir}/"
  }

  provisioner "shell" {
    inline = ["sudo rm -rf ${local.vm_dir}"]
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/manifest.json"
    strip_path = true
    custom_data = {
      build_id   = var.build_id
      image_name = var.image_name
      version    = var.version
    }
  }
}

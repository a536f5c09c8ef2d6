# ImageForge azure target, build: native (docs/azure.md): Packer's azure-arm builder starts a VM from the
# definition's marketplace image (base_image Publisher:Offer:Sku:Version), runs the local target's scan, hardening
# and inventory scripts inside it over SSH, downloads their results as the version's evidence, captures a managed
# image and publishes it as a version of the gallery image definition (shared_image_gallery_destination), replicated
# to the target's regions.
#
# Valid on Packer 1.6.6 (azure-arm built in). No `packer {}` block here: on Packer 1.7 and later the C# side writes
# plugins.pkr.hcl (required_plugins azure) next to it, as for the local template.

locals {
  vm_dir = "/tmp/imageforge"
  # The scripts are reused where they live, not copied: the VM stages, and the local target's package inventory.
  common_scripts   = "${var.templates_root}/common/scripts"
  inventory_script = "${var.templates_root}/local/scripts/collect-packages-dpkg.sh"
  tags = {
    "imageforge-image"    = var.image_name
    "imageforge-version"  = var.version
    "imageforge-build-id" = var.build_id
  }
}

source "azure-arm" "gallery" {
  subscription_id = var.subscription_id
  tenant_id       = var.tenant_id
  client_id       = var.client_id
  client_secret   = var.client_secret

  os_type         = "Linux"
  image_publisher = var.base_publisher
  image_offer     = var.base_offer
  image_sku       = var.base_sku
  image_version   = var.base_version
  location        = var.location
  vm_size         = var.vm_size
  ssh_username    = var.ssh_username
  azure_tags      = local.tags

  # The gallery publishes from a managed image: Packer captures one first.
  managed_image_name                = var.managed_image_name
  managed_image_resource_group_name = var.resource_group

  shared_image_gallery_destination {
    subscription        = var.subscription_id
    resource_group      = var.resource_group
    gallery_name        = var.gallery
    image_name          = var.image_definition
    image_version       = var.gallery_version
    replication_regions = split(",", var.replication_regions)
  }
  shared_image_gallery_replica_count = var.replica_count
  shared_image_gallery_timeout       = "120m"
}

build {
  sources = ["source.azure-arm.gallery"]

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

  # Nothing of the build stays in the image; the Azure agent generalizes it last, as Azure's own guidance says.
  provisioner "shell" {
    inline = [
      "sudo rm -rf ${local.vm_dir}",
      "sudo /usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync",
    ]
  }

  post-processor "manifest" {
    output     = "${var.output_dir}/manifest.json"
    strip_path = true
    custom_data = {
      build_id        = var.build_id
      image_name      = var.image_name
      version         = var.version
      gallery_version = var.gallery_version
    }
  }
}

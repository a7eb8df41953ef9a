// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Kinds, OrgKind, OrgStatus, Organisation} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";
import {ProtocolBase} from "./ProtocolBase.sol";
import {Regions} from "./Regions.sol";

/// @title ServiceCatalogue
/// @notice The governor's list of R&D service categories (testing, cooperative R&D, commissioned development,
/// R&D design, technical solutions, consulting, novelty search, ...), the accreditation of institutions per
/// category, and the services institutions list with their prices. Hardware is not a service category, so no
/// voucher can ever pay for it: a category must be defined here before any program or service can use it.
contract ServiceCatalogue is ProtocolBase {
    struct Category {
        string name;
        bool active;
    }

    struct Service {
        uint64 institutionOrg;
        uint8 category;
        bool active;
        uint128 price; // fen per unit of service
        string name;
    }

    uint256 private constant MAX_CATEGORIES = 256;

    Category[] private _categories;
    mapping(uint64 institutionOrg => uint256 categoryMask) private _accreditation;
    uint64 private _serviceCount;
    mapping(uint64 serviceId => Service) private _services;

    /// @dev The category list is full (256 categories).
    error CatalogueTooManyCategories();
    /// @dev A category name is empty.
    error CatalogueEmptyName();
    /// @dev The category mask names categories that are not defined.
    error CatalogueUnknownCategories(uint256 mask);
    /// @dev The category is not defined, or retired.
    error CatalogueInactiveCategory(uint8 category);
    /// @dev The organisation is not an active institution.
    error CatalogueNotInstitution(uint64 orgId);
    /// @dev The institution is not accredited for the category.
    error CatalogueNotAccredited(uint64 institutionOrg, uint8 category);
    /// @dev There is no service with this id.
    error CatalogueUnknownService(uint64 serviceId);
    /// @dev Only the institution that listed a service may change it.
    error CatalogueNotServiceOwner(uint64 serviceId, uint64 orgId);
    /// @dev The region of the institution is outside the accrediting issuer's region.
    error CatalogueOutsideJurisdiction(uint64 institutionOrg, uint32 region, uint32 issuerRegion);

    /// @dev Emitted when the governor adds a category.
    event CategoryAdded(uint8 indexed category, string name);
    /// @dev Emitted when the governor retires or restores a category.
    event CategoryStatusChanged(uint8 indexed category, bool active);
    /// @dev Emitted when an institution's accredited categories change.
    event InstitutionAccredited(uint64 indexed institutionOrg, uint256 categories, uint64 indexed byOrg);
    /// @dev Emitted when an institution lists a service.
    event ServiceListed(
        uint64 indexed serviceId,
        uint64 indexed institutionOrg,
        uint8 indexed category,
        uint128 price,
        string name
    );
    /// @dev Emitted when an institution changes a service's price or availability.
    event ServiceUpdated(uint64 indexed serviceId, uint64 indexed institutionOrg, uint128 price, bool active);

    constructor(address forwarder, ParticipantRegistry registry_) ProtocolBase(forwarder, registry_) {}

    /// @notice Adds a service category. Governor only. Emits {CategoryAdded}.
    function addCategory(string calldata name) external whenNotPaused returns (uint8 category) {
        _actor(Kinds.GOVERNOR);
        if (bytes(name).length == 0) revert CatalogueEmptyName();
        if (_categories.length == MAX_CATEGORIES) revert CatalogueTooManyCategories();
        category = uint8(_categories.length);
        _categories.push(Category({name: name, active: true}));
        emit CategoryAdded(category, name);
    }

    /// @notice Retires or restores a category. Governor only. Emits {CategoryStatusChanged}.
    function setCategoryActive(uint8 category, bool active) external whenNotPaused {
        _actor(Kinds.GOVERNOR);
        if (category >= _categories.length) revert CatalogueUnknownCategories(uint256(1) << category);
        _categories[category].active = active;
        emit CategoryStatusChanged(category, active);
    }

    /// @notice Sets the categories an institution is accredited for (replacing the previous set). The governor,
    /// or an issuer for institutions in its region. Emits {InstitutionAccredited}.
    function accredit(uint64 institutionOrg, uint256 categoryMask) external whenNotPaused {
        (uint64 byOrg, Organisation memory caller) = _actor(Kinds.GOVERNOR | Kinds.ISSUER);
        Organisation memory inst = _registry.organisation(institutionOrg);
        if (inst.kind != OrgKind.Institution || inst.status != OrgStatus.Active) {
            revert CatalogueNotInstitution(institutionOrg);
        }
        if (caller.kind == OrgKind.Issuer && !Regions.matches(caller.region, inst.region)) {
            revert CatalogueOutsideJurisdiction(institutionOrg, inst.region, caller.region);
        }
        if ((categoryMask & ~definedMask()) != 0) revert CatalogueUnknownCategories(categoryMask);
        _accreditation[institutionOrg] = categoryMask;
        emit InstitutionAccredited(institutionOrg, categoryMask, byOrg);
    }

    /// @notice Lists a service at `price` fen per unit. An accredited institution only. Emits {ServiceListed}.
    function listService(
        uint8 category,
        uint128 price,
        string calldata name
    ) external whenNotPaused returns (uint64 serviceId) {
        (uint64 orgId, ) = _actor(Kinds.INSTITUTION);
        requireActiveCategory(category);
        if (!isAccredited(orgId, category)) revert CatalogueNotAccredited(orgId, category);
        if (price == 0) revert ProtocolZeroAmount();
        if (bytes(name).length == 0) revert CatalogueEmptyName();
        serviceId = ++_serviceCount;
        _services[serviceId] = Service({
            institutionOrg: orgId,
            category: category,
            active: true,
            price: price,
            name: name
        });
        emit ServiceListed(serviceId, orgId, category, price, name);
    }

    /// @notice Changes a service's price or availability. The listing institution only. Emits {ServiceUpdated}.
    function updateService(uint64 serviceId, uint128 price, bool active) external whenNotPaused {
        (uint64 orgId, ) = _actor(Kinds.INSTITUTION);
        Service storage s = _existing(serviceId);
        if (s.institutionOrg != orgId) revert CatalogueNotServiceOwner(serviceId, orgId);
        if (price == 0) revert ProtocolZeroAmount();
        s.price = price;
        s.active = active;
        emit ServiceUpdated(serviceId, orgId, price, active);
    }

    /// @notice A service. Reverts for an unknown id.
    function service(uint64 serviceId) external view returns (Service memory) {
        return _existing(serviceId);
    }

    /// @notice Number of services listed; ids run from 1 to this number.
    function serviceCount() external view returns (uint64) {
        return _serviceCount;
    }

    /// @notice A category. Reverts for an unknown id.
    function categoryInfo(uint8 id) external view returns (Category memory) {
        if (id >= _categories.length) revert CatalogueUnknownCategories(uint256(1) << id);
        return _categories[id];
    }

    /// @notice Number of categories defined; ids run from 0.
    function categoryCount() external view returns (uint256) {
        return _categories.length;
    }

    /// @notice The mask of every defined category.
    function definedMask() public view returns (uint256) {
        uint256 n = _categories.length;
        return n == MAX_CATEGORIES ? type(uint256).max : (uint256(1) << n) - 1;
    }

    /// @notice The categories an institution is accredited for.
    function accreditation(uint64 institutionOrg) external view returns (uint256) {
        return _accreditation[institutionOrg];
    }

    /// @notice Whether an institution is accredited for a category.
    function isAccredited(uint64 institutionOrg, uint8 category_) public view returns (bool) {
        return (_accreditation[institutionOrg] >> category_) & 1 == 1;
    }

    /// @notice Reverts with {CatalogueInactiveCategory} unless `category_` is defined and active.
    function requireActiveCategory(uint8 category_) public view {
        if (category_ >= _categories.length || !_categories[category_].active) {
            revert CatalogueInactiveCategory(category_);
        }
    }

    function _existing(uint64 serviceId) private view returns (Service storage s) {
        s = _services[serviceId];
        if (s.institutionOrg == 0) revert CatalogueUnknownService(serviceId);
    }
}

package client

import (
	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt/client/internal/openapi"
)

// The models below are generated from api/openapi.yaml; they are aliases, so their fields and
// JSON tags are exactly the contract's.

// UUID identifies product orders and price packages.
type UUID = uuid.UUID

// ParseUUID parses a product order or price package id.
func ParseUUID(s string) (UUID, error) { return uuid.Parse(s) }

// BusinessIdentifier identifies an organisation: a scheme such as "business:NO:ORG" and the id
// in it (for Norway the organisation number).
type BusinessIdentifier = openapi.BusinessIdentifier

// MsnInfo is the MSN and name of a sales unit.
type MsnInfo = openapi.MsnInfo

// SalesUnit is a sales unit with its owner and configuration flags.
type SalesUnit = openapi.SalesUnit

// SalesUnitConfiguration holds optional facts about a sales unit; nil means unknown, not false.
type SalesUnitConfiguration = openapi.SalesUnitConfiguration

// CaptureType is a sales unit's capture type.
type CaptureType = openapi.SalesUnitConfigurationCaptureType

// Capture types.
const (
	CaptureTypeReserveCapture CaptureType = "ReserveCapture"
	CaptureTypeDirectCapture  CaptureType = "DirectCapture"
	CaptureTypeNotApplicable  CaptureType = "NotApplicable"
)

// Merchant is an organisation that owns sales units.
type Merchant = openapi.Merchant

// MerchantStatus is ACTIVE or DEACTIVATED.
type MerchantStatus = openapi.MerchantStatus

// Merchant statuses.
const (
	MerchantStatusActive      MerchantStatus = "ACTIVE"
	MerchantStatusDeactivated MerchantStatus = "DEACTIVATED"
)

// Address is a merchant's business or postal address.
type Address = openapi.Address

// BankAccount is a domestic (BBAN) settlement account.
type BankAccount = openapi.BankAccount

// App describes the merchant's app for ProductUseCaseApp.
type App = openapi.App

// Website describes the merchant's website and sales terms.
type Website = openapi.Website

// ProductOrderRequest is the body of a prefill (OrderProduct). Only BusinessIdentifier and
// ProductType are required.
type ProductOrderRequest = openapi.ProductOrderRequest

// ProductOrderResponse is the result of a prefill: the order id and the merchant's link.
type ProductOrderResponse = openapi.ProductOrderResponse

// ProductOrderDetails is what a partner or merchant may know about a product order
// (ProductOrderDetailsResponseV2 in the contract).
type ProductOrderDetails = openapi.ProductOrderDetailsResponseV2

// ProductOrderSalesUnit is the sales unit a completed product order resulted in.
type ProductOrderSalesUnit = openapi.ProductOrderSalesUnit

// PricePackage is one of a partner's price packages.
type PricePackage = openapi.PricePackage

// PricePackageMarket is DK, NO or FI.
type PricePackageMarket = openapi.PricePackageMarket

// ExtraDetails is one entry of Problem.ExtraDetails.
type ExtraDetails = openapi.ExtraDetails

// ProductType is the product being ordered.
type ProductType = openapi.ProductType

// Product types.
const (
	ProductTypePaymentIntegration ProductType = "PAYMENT_INTEGRATION"
	ProductTypeCashier            ProductType = "CASHIER"
	ProductTypeCheckout           ProductType = "CHECKOUT"
	ProductTypeLogin              ProductType = "LOGIN"
	ProductTypeDonations          ProductType = "DONATIONS"
)

// ProductUseCase is where the merchant sells.
type ProductUseCase = openapi.ProductUseCase

// Product use cases.
const (
	ProductUseCaseWebsite         ProductUseCase = "Website"
	ProductUseCaseWebsiteWithTest ProductUseCase = "WebsiteWithTest"
	ProductUseCaseApp             ProductUseCase = "App"
	ProductUseCaseUnknown         ProductUseCase = "Unknown"
)

// ProductOrderStatus is where a product order is in its lifecycle.
type ProductOrderStatus = openapi.ProductOrderStatus

// Product order statuses.
const (
	StatusReceived       ProductOrderStatus = "RECEIVED"
	StatusMerchantViewed ProductOrderStatus = "MERCHANT_VIEWED"
	StatusOrderSubmitted ProductOrderStatus = "ORDER_SUBMITTED"
	StatusExpired        ProductOrderStatus = "EXPIRED"
	StatusCompleted      ProductOrderStatus = "COMPLETED"
	StatusRejected       ProductOrderStatus = "REJECTED"
)

// ProductOrderType is how a product order was made.
type ProductOrderType = openapi.ProductOrderType

// Product order types.
const (
	ProductOrderTypePrefill  ProductOrderType = "PREFILL"
	ProductOrderTypeTemplate ProductOrderType = "TEMPLATE"
	ProductOrderTypeManual   ProductOrderType = "MANUAL"
)

// Operator API models.

// AdminProductOrder is a product order with everything operators see.
type AdminProductOrder = openapi.AdminProductOrder

// OrderDetails are the fields of a prefill a merchant can review and correct.
type OrderDetails = openapi.OrderDetails

// AdminApproval names the sales unit an approval creates; both fields are optional.
type AdminApproval = openapi.AdminApproval

// AdminSalesUnit is a sales unit with everything operators see.
type AdminSalesUnit = openapi.AdminSalesUnit

// AdminSalesUnitInput creates a sales unit.
type AdminSalesUnitInput = openapi.AdminSalesUnitInput

// AdminSalesUnitUpdate changes a sales unit; absent fields are left alone.
type AdminSalesUnitUpdate = openapi.AdminSalesUnitUpdate

// SalesUnitStatus is ACTIVE or INACTIVE.
type SalesUnitStatus = openapi.SalesUnitStatus

// Sales unit statuses.
const (
	SalesUnitStatusActive   SalesUnitStatus = "ACTIVE"
	SalesUnitStatusInactive SalesUnitStatus = "INACTIVE"
)

// AdminClock is the server's clock and how far it is ahead of real time.
type AdminClock = openapi.AdminClock

// AdminPartner is a partner.
type AdminPartner = openapi.AdminPartner

// AdminPartnerInput creates a partner.
type AdminPartnerInput = openapi.AdminPartnerInput

// AdminKey is a key set without its secrets.
type AdminKey = openapi.AdminKey

// AdminKeyCreated is a new key set with its secrets, shown once.
type AdminKeyCreated = openapi.AdminKeyCreated

// KeyKind is partner, management or merchant.
type KeyKind = openapi.KeyKind

// Key kinds.
const (
	KeyKindPartner    KeyKind = "partner"
	KeyKindManagement KeyKind = "management"
	KeyKindMerchant   KeyKind = "merchant"
)

// AdminPricePackageInput creates a price package.
type AdminPricePackageInput = openapi.AdminPricePackageInput

// AdminMerchantInput creates a merchant.
type AdminMerchantInput = openapi.AdminMerchantInput

// AdminNotification is a decision e-mail in the outbox.
type AdminNotification = openapi.AdminNotification

// AdminRequest is one served API request.
type AdminRequest = openapi.AdminRequest

// AdminReport is the integration report; AdminReportCaller one caller's part of it and
// AdminReportFinding one finding, with its severity.
type (
	AdminReport        = openapi.AdminReport
	AdminReportCaller  = openapi.AdminReportCaller
	AdminReportFinding = openapi.AdminReportFinding
	AdminReportWindow  = openapi.AdminReportWindow
	ReportFindingCode  = openapi.AdminReportFindingCode
	ReportSeverity     = openapi.AdminReportFindingSeverity
)

// Severities of report findings, least severe first.
const (
	ReportSeverityInfo    ReportSeverity = "info"
	ReportSeverityWarning ReportSeverity = "warning"
	ReportSeverityError   ReportSeverity = "error"
)
